import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { CmsKeyMismatchError, OID, signDetachedCms, verifyDetachedCms } from '../../../src/adapters/crypto/cms'
import { makeTestPki, tempDir, type TestPki } from '../pdf/pades-fixtures'

let pki: TestPki
const content = new TextEncoder().encode('赣州市 营业执照 91360700MA0000000X')
let digest: Uint8Array
beforeAll(async () => {
  pki = await makeTestPki()
  digest = new Uint8Array(await crypto.subtle.digest('SHA-256', content))
})

const signer = (who: 'alice' | 'bob' | 'rsa') => ({ privateKey: pki.signers[who].key, certificate: new Uint8Array(pki.signers[who].certificate.rawData), chain: [new Uint8Array(pki.ca.rawData), new Uint8Array(pki.root.rawData)] })

describe('signDetachedCms / verifyDetachedCms', () => {
  for (const who of ['alice', 'rsa'] as const) {
    test(`round-trips a CAdES B-B detached signature (${who})`, async () => {
      const cms = await signDetachedCms(digest, signer(who))
      const evidence = await verifyDetachedCms(cms, { content })
      expect(evidence).toMatchObject({
        parsed: true,
        problem: null,
        detached: true,
        digestAlgorithm: 'SHA-256',
        encapsulatedContentType: OID.data,
        messageDigestMatches: true,
        signatureValid: true,
        signingCertificate: 'match',
        hasSigningTimeAttribute: false,
      })
      expect(evidence.signedAttributes.sort()).toEqual([OID.contentType, OID.messageDigest, OID.signingCertificateV2].sort())
      expect(evidence.certificates).toHaveLength(3)
      expect(Buffer.from(evidence.signerCertificate as Uint8Array).equals(Buffer.from(pki.signers[who].certificate.rawData))).toBe(true)
    })
  }

  test('other content: the digest no longer matches while the signature over the attributes still verifies', async () => {
    const cms = await signDetachedCms(digest, signer('alice'))
    const evidence = await verifyDetachedCms(cms, { content: new TextEncoder().encode('forged') })
    expect(evidence.messageDigestMatches).toBe(false)
    expect(evidence.signatureValid).toBe(true)
  })

  test('refuses to sign with a key that is not the certificate’s', async () => {
    await expect(signDetachedCms(digest, { ...signer('alice'), privateKey: pki.signers.bob.key })).rejects.toBeInstanceOf(CmsKeyMismatchError)
  })

  test('garbage is reported, not thrown', async () => {
    for (const bytes of [new Uint8Array(), Uint8Array.of(0x30, 0x82), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), new Uint8Array(64).fill(0xff)]) {
      const evidence = await verifyDetachedCms(bytes, { content })
      expect(evidence.signatureValid).toBe(false)
      expect(evidence.problem).toEqual(expect.any(String))
    }
  })

  test('openssl verifies our CMS over the content, chaining to the root', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'sig.der'), await signDetachedCms(digest, signer('alice')))
    writeFileSync(join(dir, 'data.bin'), content)
    writeFileSync(join(dir, 'root.pem'), pki.root.toString('pem'))
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, 'data.bin'), '-CAfile', join(dir, 'root.pem'), '-purpose', 'any', '-out', join(dir, 'out.bin')], { stdio: 'pipe' })
    expect(readFileSync(join(dir, 'out.bin'))).toEqual(Buffer.from(content))
  })

  test('we verify a CAdES signature made by openssl (signing-certificate-v2 and signing-time present)', async () => {
    const dir = tempDir()
    const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', pki.signers.alice.key)).toString('base64')
    writeFileSync(join(dir, 'key.pem'), `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`)
    writeFileSync(join(dir, 'cert.pem'), pki.signers.alice.certificate.toString('pem'))
    writeFileSync(join(dir, 'data.bin'), content)
    execFileSync('openssl', ['cms', '-sign', '-cades', '-binary', '-md', 'sha256', '-in', join(dir, 'data.bin'), '-signer', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-outform', 'DER', '-out', join(dir, 'sig.der')], { stdio: 'pipe' })
    const evidence = await verifyDetachedCms(new Uint8Array(readFileSync(join(dir, 'sig.der'))), { content })
    expect(evidence).toMatchObject({ parsed: true, detached: true, messageDigestMatches: true, signatureValid: true, signingCertificate: 'match', hasSigningTimeAttribute: true })
  })
})
