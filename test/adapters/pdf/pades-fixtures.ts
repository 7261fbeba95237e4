import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib'
import { ES256, randomSerialNumber, x509 } from '../../../src/adapters/crypto/x509'
import { signDetachedCms } from '../../../src/adapters/crypto/cms'
import type { SignPdfOptions } from '../../../src/adapters/pdf/pades-sign'
import { PdfFile, type PdfState } from '../../../src/adapters/pdf/pdf-file'
import { PdfDict, PdfRef, serializeValue } from '../../../src/adapters/pdf/pdf-syntax'

/** A test PKI made here: root → issuing CA → signers (two ES256, one RSA 2048). */
export interface TestPki {
  root: x509.X509Certificate
  ca: x509.X509Certificate
  signers: Record<'alice' | 'bob' | 'rsa', { key: CryptoKey; certificate: x509.X509Certificate }>
  /** A timestamping authority (EKU id-kp-timeStamping, critical), as RFC 3161 requires. */
  tsa: { key: CryptoKey; certificate: x509.X509Certificate }
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
  const issue = async (subject: string, publicKey: CryptoKey, issuer: x509.X509Certificate, signingKey: CryptoKey, ca: boolean, extra: x509.Extension[] = []) =>
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
        ...extra,
      ],
    })
  const caKeys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const ca = await issue('C=CN, O=Test Bureau, CN=Test Issuing CA', caKeys.publicKey, root, rootKeys.privateKey, true)
  const signer = async (cn: string, algorithm: typeof ES256 | typeof RSA) => {
    const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
    return { key: keys.privateKey, certificate: await issue(`C=CN, O=Test Bureau, CN=${cn}`, keys.publicKey, ca, caKeys.privateKey, false) }
  }
  const signers = { alice: await signer('Alice Signer', ES256), bob: await signer('Bob Signer', ES256), rsa: await signer('RSA Signer', RSA) }
  const tsaKeys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const tsa = { key: tsaKeys.privateKey, certificate: await issue('C=CN, O=Test Bureau, CN=Test TSA', tsaKeys.publicKey, ca, caKeys.privateKey, false, [new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.8'], true)]) }
  return {
    root,
    ca,
    signers,
    tsa,
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

/**
 * Appends a hand-written incremental update (classic cross-reference table), as an attacker or
 * another tool would: `objects` maps object numbers to their serialised bodies.
 */
export function appendUpdate(pdf: Uint8Array, objects: Record<number, string>, trailer: { size?: number; info?: number } = {}): Uint8Array {
  const file = new PdfFile(pdf)
  const state = file.stateAt(file.lastMarker)
  const parts: string[] = ['\n']
  let at = pdf.length + 1
  const offsets = new Map<number, number>()
  for (const [num, body] of Object.entries(objects)) {
    const text = `${num} 0 obj\n${body}\nendobj\n`
    offsets.set(Number(num), at)
    parts.push(text)
    at += Buffer.byteLength(text, 'latin1')
  }
  let xref = 'xref\n'
  for (const [num, offset] of [...offsets].sort((a, b) => a[0] - b[0])) xref += `${num} 1\n${String(offset).padStart(10, '0')} 00000 n\r\n`
  const size = Math.max(trailer.size ?? 0, state.trailer.get('Size') as number, ...[...offsets.keys()].map((n) => n + 1))
  const root = state.trailer.get('Root') as PdfRef
  const info = trailer.info ?? (state.trailer.get('Info') as PdfRef | undefined)?.num
  parts.push(`${xref}trailer\n<</Size ${size}/Root ${root.num} 0 R${info === undefined ? '' : `/Info ${info} 0 R`}/Prev ${state.chain[0]?.offset}>>\nstartxref\n${at}\n%%EOF\n`)
  return new Uint8Array([...pdf, ...Buffer.from(parts.join(''), 'latin1')])
}

/** The final revision of a PDF, to find object numbers to attack. */
export function finalState(pdf: Uint8Array): PdfState {
  const file = new PdfFile(pdf)
  return file.stateAt(file.lastMarker)
}

export const PLACEHOLDER_BYTE_RANGE = `[0 ${'0'.repeat(10)} ${'0'.repeat(10)} ${'0'.repeat(10)}]`
export const placeholderContents = (bytes = 8192) => `<${'0'.repeat(bytes * 2)}>`

/**
 * Fills the last placeholder signature in a file with a real CMS by `who`, over the byte range
 * given (by default the honest one: everything but the /Contents string). Attack fixtures pass
 * a dishonest range; the CMS is still valid over whatever that range covers.
 */
export async function fillPlaceholder(pdf: Uint8Array, pki: TestPki, who: 'alice' | 'bob', byteRange?: (honest: [number, number, number, number]) => [number, number, number, number]): Promise<Uint8Array> {
  return fillPlaceholderWith(pdf, async (covered) => signDetachedCms(new Uint8Array(await crypto.subtle.digest('SHA-256', covered as BufferSource)), { privateKey: pki.signers[who].key, certificate: new Uint8Array(pki.signers[who].certificate.rawData), chain: [new Uint8Array(pki.ca.rawData)] }), byteRange)
}

/** Fills the last placeholder with whatever `make` returns for the covered bytes. */
export async function fillPlaceholderWith(pdf: Uint8Array, make: (covered: Uint8Array) => Promise<Uint8Array>, byteRange?: (honest: [number, number, number, number]) => [number, number, number, number]): Promise<Uint8Array> {
  const text = Buffer.from(pdf).toString('latin1')
  const brAt = text.lastIndexOf(PLACEHOLDER_BYTE_RANGE)
  const contentsStart = text.indexOf('/Contents <', brAt) + '/Contents '.length
  const contentsEnd = text.indexOf('>', contentsStart) + 1
  const honest: [number, number, number, number] = [0, contentsStart, contentsEnd, pdf.length - contentsEnd]
  const range = byteRange ? byteRange(honest) : honest
  const out = pdf.slice()
  out.set(Buffer.from(`[${range.join(' ')}]`.padEnd(PLACEHOLDER_BYTE_RANGE.length, ' '), 'latin1'), brAt)
  const covered = new Uint8Array([...out.subarray(0, range[1]), ...out.subarray(range[2], range[2] + range[3])])
  out.set(Buffer.from(Buffer.from(await make(covered)).toString('hex'), 'latin1'), contentsStart + 1)
  return out
}

/** An RFC 3161 timestamp token over `data`, made by openssl's TSA with the test TSA key. */
export async function timestampToken(pki: TestPki, data: Uint8Array): Promise<Uint8Array> {
  const dir = tempDir()
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', pki.tsa.key)).toString('base64')
  writeFileSync(join(dir, 'tsa.key'), `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`)
  writeFileSync(join(dir, 'tsa.pem'), pki.tsa.certificate.toString('pem'))
  writeFileSync(join(dir, 'data.bin'), data)
  writeFileSync(join(dir, 'serial'), '01\n')
  writeFileSync(
    join(dir, 'ts.cnf'),
    `[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\nserial = ${join(dir, 'serial')}\ncrypto_device = builtin\nsigner_digest = sha256\ndefault_policy = 1.2.156.1\ndigests = sha256\naccuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n`,
  )
  execFileSync('openssl', ['ts', '-query', '-data', join(dir, 'data.bin'), '-sha256', '-cert', '-no_nonce', '-out', join(dir, 'q.tsq')], { stdio: 'pipe' })
  execFileSync('openssl', ['ts', '-reply', '-config', join(dir, 'ts.cnf'), '-queryfile', join(dir, 'q.tsq'), '-signer', join(dir, 'tsa.pem'), '-inkey', join(dir, 'tsa.key'), '-token_out', '-out', join(dir, 'token.der')], { stdio: 'pipe' })
  return new Uint8Array(readFileSync(join(dir, 'token.der')))
}

export const SIG_DICT = `<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange ${PLACEHOLDER_BYTE_RANGE}/Contents ${placeholderContents()}/M(D:20260101000000Z)>>`

/**
 * Appends an update that adds a signature field on page 1 whose value is `sigDict` (by default a
 * placeholder for fillPlaceholder), plus any `extra` objects in the same update.
 */
export function withSignatureUpdate(pdf: Uint8Array, opts: { sigDict?: string; extra?: Record<number, string> } = {}): Uint8Array {
  const state = finalState(pdf)
  const size = state.trailer.get('Size') as number
  const sigNum = size
  const widgetNum = size + 1
  const widgetRef = new PdfRef(widgetNum, 0)
  const page = state.pages()[0] as { ref: PdfRef; dict: PdfDict }
  const objects: Record<number, string> = {
    [sigNum]: opts.sigDict ?? SIG_DICT,
    [widgetNum]: `<</Type/Annot/Subtype/Widget/FT/Sig/T(Sig${widgetNum})/V ${sigNum} 0 R/F 132/P ${page.ref.num} 0 R/Rect[0 0 0 0]>>`,
  }
  const annots = page.dict.get('Annots')
  if (annots instanceof PdfRef) objects[annots.num] = serializeValue([...(state.array(annots) ?? []), widgetRef])
  else objects[page.ref.num] = serializeValue(new PdfDict(new Map([...page.dict.entries, ['Annots', [...(state.array(annots) ?? []), widgetRef]]])))
  const catalog = state.catalog()
  const acroRef = catalog.dict.get('AcroForm')
  const acro = state.dict(acroRef)
  const fields = [...(state.array(acro?.get('Fields')) ?? []), widgetRef]
  const newAcro = new PdfDict(new Map([...(acro?.entries ?? []), ['Fields', fields], ['SigFlags', 3]]))
  if (acroRef instanceof PdfRef) objects[acroRef.num] = serializeValue(newAcro)
  else objects[catalog.ref.num] = serializeValue(new PdfDict(new Map([...catalog.dict.entries, ['AcroForm', newAcro]])))
  return appendUpdate(pdf, { ...objects, ...opts.extra }, { size: widgetNum + 1 })
}

/** A stream object body. */
export const streamObject = (content: string, dict = '') => `<<${dict}/Length ${Buffer.byteLength(content, 'latin1')}>>\nstream\n${content}\nendstream`
