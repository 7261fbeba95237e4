import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib'
import { ES256, randomSerialNumber, x509 } from '../../../src/adapters/crypto/x509'
import type { SignPdfOptions } from '../../../src/adapters/pdf/pades-sign'

/** A test PKI made here: root → issuing CA → signers (two ES256, one RSA 2048). */
export interface TestPki {
  root: x509.X509Certificate
  ca: x509.X509Certificate
  signers: Record<'alice' | 'bob' | 'rsa', { key: CryptoKey; certificate: x509.X509Certificate }>
  options(who: 'alice' | 'bob' | 'rsa', extra?: Partial<SignPdfOptions>): SignPdfOptions
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }

export async function makeTestPki(): Promise<TestPki> {
  const now = new Date()
  const notBefore = new Date(now.getTime() - 3_600_000)
  const notAfter = new Date(now.getTime() + 365 * 86_400_000)
  const rootKeys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: 'C=CN, O=Test Bureau, CN=Test Root CA',
    notBefore,
    notAfter,
    signingAlgorithm: ES256,
    keys: rootKeys,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)],
  })
  const issue = async (subject: string, publicKey: CryptoKey, issuer: x509.X509Certificate, signingKey: CryptoKey, ca: boolean) =>
    x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      subject,
      issuer: issuer.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ES256,
      publicKey,
      signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(ca, ca ? 0 : undefined, true),
        new x509.KeyUsagesExtension(ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(issuer),
      ],
    })
  const caKeys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const ca = await issue('C=CN, O=Test Bureau, CN=Test Issuing CA', caKeys.publicKey, root, rootKeys.privateKey, true)
  const signer = async (cn: string, algorithm: typeof ES256 | typeof RSA) => {
    const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
    return { key: keys.privateKey, certificate: await issue(`C=CN, O=Test Bureau, CN=${cn}`, keys.publicKey, ca, caKeys.privateKey, false) }
  }
  const signers = { alice: await signer('Alice Signer', ES256), bob: await signer('Bob Signer', ES256), rsa: await signer('RSA Signer', RSA) }
  return {
    root,
    ca,
    signers,
    options: (who, extra = {}) => ({
      privateKey: signers[who].key,
      certificate: new Uint8Array(signers[who].certificate.rawData),
      chain: [new Uint8Array(ca.rawData), new Uint8Array(root.rawData)],
      ...extra,
    }),
  }
}

/** A licence-like PDF made with pdf-lib. */
export async function makePdf(opts: { useObjectStreams?: boolean; pages?: number } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create()
  const font = await doc.embedFont(StandardFonts.Helvetica)
  for (let i = 0; i < (opts.pages ?? 1); i++) {
    const page = doc.addPage([595, 842])
    page.drawText(`Business licence No. 91360700MA0000000X page ${i + 1}`, { x: 50, y: 780, size: 14, font, color: rgb(0, 0, 0) })
    page.drawText('Holder: Ganzhou Example Trading Co., Ltd.', { x: 50, y: 750, size: 12, font })
  }
  return doc.save({ useObjectStreams: opts.useObjectStreams ?? true })
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tongban-pades-'))
}

/** An NSS database trusting the test root, for pdfsig -nssdir. */
export function nssDbTrusting(root: x509.X509Certificate): string {
  const dir = tempDir()
  writeFileSync(join(dir, 'root.pem'), root.toString('pem'))
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password'])
  execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'tongban-test-root', '-t', 'CT,C,C', '-i', join(dir, 'root.pem')])
  return dir
}

export function pdfsig(pdf: Uint8Array, nssDir?: string): string {
  const path = join(tempDir(), 'doc.pdf')
  writeFileSync(path, pdf)
  try {
    return execFileSync('pdfsig', [...(nssDir ? ['-nssdir', `sql:${nssDir}`] : []), path], { encoding: 'utf8' })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}`
  }
}
