import { execFileSync } from 'node:child_process'
import { X509Certificate, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import fc from 'fast-check'
import forge from 'node-forge'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { importPkcs12, Pkcs12Error, type Pkcs12ProblemCode } from '../../../src/adapters/crypto/pkcs12'

/**
 * PKCS#12 files made by OpenSSL 3 the way a bureau's staff would make them: a key and a
 * self-signed certificate from `openssl req -x509 -newkey …`, exported by `openssl pkcs12
 * -export` with OpenSSL 3's defaults (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, SHA-256 MAC) and
 * with `-legacy` (RC2-40 for certificates, 3DES for the key, SHA-1 MAC).
 */

const PASSWORD = 'tongban-secret'
let dir: string

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}
const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)))
const certificateDer = (name: string) => new Uint8Array(execFileSync('openssl', ['x509', '-in', join(dir, name), '-outform', 'DER']))

function newKeyAndCertificate(name: string, keySpec: string[], subject: string, extra: string[] = []) {
  openssl('req', '-x509', ...keySpec, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subject, '-days', '30', ...extra)
}

function exportPkcs12(out: string, key: string | undefined, cert: string | undefined, options: string[] = [], password = PASSWORD) {
  openssl('pkcs12', '-export', ...(key ? ['-inkey', key] : []), ...(cert ? ['-in', cert] : []), ...options, '-out', out, '-passout', `pass:${password}`)
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkcs12-'))
  newKeyAndCertificate('rsa', ['-newkey', 'rsa:2048'], '/C=CN/O=赣州市行政审批局/CN=RSA 印章制章')
  newKeyAndCertificate('rsa-other', ['-newkey', 'rsa:2048'], '/CN=another RSA')
  newKeyAndCertificate('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/C=CN/O=赣州市行政审批局/CN=EC 印章制章')
  newKeyAndCertificate('p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '/CN=P-384')
  newKeyAndCertificate('ed25519', ['-newkey', 'ed25519'], '/CN=Ed25519')
  newKeyAndCertificate('rsa1024', ['-newkey', 'rsa:1024'], '/CN=RSA 1024')
  for (const kind of ['rsa', 'ec']) {
    exportPkcs12(`${kind}-modern.p12`, `${kind}.key`, `${kind}.crt`)
    exportPkcs12(`${kind}-legacy.p12`, `${kind}.key`, `${kind}.crt`, ['-legacy'])
  }
  // a chain: root CA → leaf, exported with the CA certificate alongside
  newKeyAndCertificate('ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/C=CN/O=赣州市/CN=赣州市 印章CA', ['-addext', 'basicConstraints=critical,CA:TRUE'])
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/C=CN/O=赣州通办科技有限公司/CN=合同专用章')
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '30')
  exportPkcs12('chain.p12', 'leaf.key', 'leaf.crt', ['-certfile', 'ca.crt'])
  exportPkcs12('key-only.p12', 'rsa.key', undefined, ['-nocerts'])
  exportPkcs12('cert-only.p12', undefined, 'rsa.crt', ['-nokeys'])
  exportPkcs12('no-mac.p12', 'ec.key', 'ec.crt', ['-nomac'])
  exportPkcs12('p384.p12', 'p384.key', 'p384.crt')
  exportPkcs12('ed25519.p12', 'ed25519.key', 'ed25519.crt')
  exportPkcs12('rsa1024.p12', 'rsa1024.key', 'rsa1024.crt')
  exportPkcs12('chinese-password-modern.p12', 'ec.key', 'ec.crt', [], '赣州通办')
  exportPkcs12('chinese-password-legacy.p12', 'ec.key', 'ec.crt', ['-legacy'], '赣州通办')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function expectProblem(promise: Promise<unknown>, code: Pkcs12ProblemCode, status: number) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Pkcs12Error)
  expect(error).toMatchObject({ code, status })
  return error as Pkcs12Error
}

/** Signs with the imported key through WebCrypto; node:crypto (OpenSSL) checks it against the certificate. */
async function signAndVerifyIndependently(privateKey: CryptoKey, algorithm: 'ES256' | 'RS256', certificate: Uint8Array) {
  const data = new TextEncoder().encode('营业执照 91360700MA35XXXXXX 由赣州市行政审批局签发')
  const params = algorithm === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' }
  const signature = new Uint8Array(await crypto.subtle.sign(params, privateKey, data))
  const key = new X509Certificate(certificate).publicKey
  const ok = verify('sha256', data, algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature)
  expect(ok).toBe(true)
}

describe('importPkcs12', () => {
  for (const [kind, algorithm] of [
    ['rsa', 'RS256'],
    ['ec', 'ES256'],
  ] as const) {
    for (const encryption of ['modern', 'legacy'] as const) {
      test(`${kind.toUpperCase()} key, ${encryption === 'modern' ? 'OpenSSL 3 default encryption (PBES2, AES-256-CBC, SHA-256 MAC)' : '-legacy encryption (RC2-40 / 3DES, SHA-1 MAC)'}: key and certificate come out; OpenSSL verifies what the key signs`, async () => {
        const imported = await importPkcs12(file(`${kind}-${encryption}.p12`), PASSWORD)
        expect(imported.algorithm).toBe(algorithm)
        expect(imported.certificate).toEqual(certificateDer(`${kind}.crt`))
        expect(imported.chain).toEqual([])
        expect(imported.privateKey).toMatchObject({ type: 'private', extractable: false, usages: ['sign'] })
        await signAndVerifyIndependently(imported.privateKey, imported.algorithm, imported.certificate)
      })
    }
  }

  test('the key can be made extractable when the caller has to store it', async () => {
    const { privateKey } = await importPkcs12(file('ec-modern.p12'), PASSWORD, { extractable: true })
    expect(privateKey.extractable).toBe(true)
    expect((await crypto.subtle.exportKey('jwk', privateKey)).crv).toBe('P-256')
  })

  test('a chain: the certificate is the key’s, the CA comes in chain', async () => {
    const imported = await importPkcs12(file('chain.p12'), PASSWORD)
    expect(imported.certificate).toEqual(certificateDer('leaf.crt'))
    expect(imported.chain).toEqual([certificateDer('ca.crt')])
    await signAndVerifyIndependently(imported.privateKey, imported.algorithm, imported.certificate)
  })

  test('a file without a MAC still opens with its password', async () => {
    const imported = await importPkcs12(file('no-mac.p12'), PASSWORD)
    expect(imported.certificate).toEqual(certificateDer('ec.crt'))
  })

  test('a non-ASCII password opens modern (PBKDF2 over UTF-8) and -legacy (BMPString) files; a wrong one does not', async () => {
    for (const name of ['chinese-password-modern.p12', 'chinese-password-legacy.p12']) {
      const imported = await importPkcs12(file(name), '赣州通办')
      expect(imported.certificate).toEqual(certificateDer('ec.crt'))
      await signAndVerifyIndependently(imported.privateKey, imported.algorithm, imported.certificate)
      await expectProblem(importPkcs12(file(name), '赣州通辦'), 'pkcs12_bad_password', 422)
    }
  })
})

describe('importPkcs12 refuses, with a problem code', () => {
  test('a wrong password: 422 pkcs12_bad_password, for modern and legacy files', async () => {
    for (const name of ['rsa-modern.p12', 'rsa-legacy.p12', 'ec-modern.p12', 'ec-legacy.p12', 'no-mac.p12']) {
      const error = await expectProblem(importPkcs12(file(name), 'not-the-password'), 'pkcs12_bad_password', 422)
      expect(error.message).toMatch(/password/)
    }
    await expectProblem(importPkcs12(file('ec-modern.p12'), ''), 'pkcs12_bad_password', 422)
  })

  test('garbage and empty input: 400 pkcs12_invalid', async () => {
    await expectProblem(importPkcs12(crypto.getRandomValues(new Uint8Array(512)), PASSWORD), 'pkcs12_invalid', 400)
    await expectProblem(importPkcs12(new TextEncoder().encode('-----BEGIN CERTIFICATE-----'), PASSWORD), 'pkcs12_invalid', 400)
    await expectProblem(importPkcs12(new Uint8Array(), PASSWORD), 'pkcs12_invalid', 400)
    await expectProblem(importPkcs12(certificateDer('rsa.crt'), PASSWORD), 'pkcs12_invalid', 400)
  })

  test('a truncated file: 400 pkcs12_invalid, wherever it is cut', async () => {
    for (const name of ['rsa-modern.p12', 'ec-legacy.p12']) {
      const p12 = file(name)
      for (const length of [1, 2, 16, Math.floor(p12.length / 2), p12.length - 20, p12.length - 1]) {
        await expectProblem(importPkcs12(p12.subarray(0, length), PASSWORD), 'pkcs12_invalid', 400)
      }
    }
  })

  test('trailing bytes after the PFX: 400 pkcs12_invalid', async () => {
    await expectProblem(importPkcs12(Uint8Array.of(...file('ec-modern.p12'), 0, 0), PASSWORD), 'pkcs12_invalid', 400)
  })

  test('no private key: 422 pkcs12_no_key', async () => {
    await expectProblem(importPkcs12(file('cert-only.p12'), PASSWORD), 'pkcs12_no_key', 422)
  })

  test('no certificate: 422 pkcs12_no_certificate', async () => {
    await expectProblem(importPkcs12(file('key-only.p12'), PASSWORD), 'pkcs12_no_certificate', 422)
  })

  test('a key that belongs to none of the certificates: 422 pkcs12_key_mismatch', async () => {
    // OpenSSL refuses to write such a file, so node-forge writes it here
    const key = forge.pki.privateKeyFromPem(readFileSync(join(dir, 'rsa.key'), 'utf8'))
    const other = forge.pki.certificateFromPem(readFileSync(join(dir, 'rsa-other.crt'), 'utf8'))
    const asn1 = forge.pkcs12.toPkcs12Asn1(key, [other], PASSWORD, { algorithm: '3des' })
    const p12 = Uint8Array.from(forge.asn1.toDer(asn1).getBytes(), (c) => c.charCodeAt(0))
    await expectProblem(importPkcs12(p12, PASSWORD), 'pkcs12_key_mismatch', 422)
  })

  test('keys this service does not use: 422 pkcs12_unsupported_key (EC P-384, Ed25519, RSA 1024)', async () => {
    expect((await expectProblem(importPkcs12(file('p384.p12'), PASSWORD), 'pkcs12_unsupported_key', 422)).message).toMatch(/P-384/)
    expect((await expectProblem(importPkcs12(file('ed25519.p12'), PASSWORD), 'pkcs12_unsupported_key', 422)).message).toMatch(/Ed25519/)
    expect((await expectProblem(importPkcs12(file('rsa1024.p12'), PASSWORD), 'pkcs12_unsupported_key', 422)).message).toMatch(/1024 bits/)
  })
  test('a flipped byte anywhere gives a problem code or the same key with its own certificate, never a crash', async () => {
    const spki = (der: Uint8Array) => new Uint8Array(AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate.subjectPublicKeyInfo))
    for (const [name, mac] of [
      ['ec-modern.p12', true],
      ['no-mac.p12', false],
    ] as const) {
      const p12 = file(name)
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: p12.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
          const flipped = p12.slice()
          flipped[at] = (p12[at] as number) ^ mask
          const outcome = await importPkcs12(flipped, PASSWORD).then(
            (imported) => imported,
            (e: unknown) => e,
          )
          if (outcome instanceof Pkcs12Error) return
          expect(outcome).toMatchObject({ algorithm: 'ES256' })
          const { certificate } = outcome as { certificate: Uint8Array }
          // with a MAC, only bytes outside the authenticated content (salt, iterations) could change, and they break the MAC;
          // without one, CBC lets a flip garble certificate bytes: the key still matches the certificate's public key, and
          // the garbled certificate's own signature is for chain validation to refuse
          if (mac) expect(certificate).toEqual(certificateDer('ec.crt'))
          else expect(spki(certificate)).toEqual(spki(certificateDer('ec.crt')))
        }),
        { numRuns: 40 },
      )
    }
  }, 120_000)
})
