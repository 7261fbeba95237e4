import { describe, expect, it } from 'vitest'
import { parseCompactJws, verifyJwsSignature } from '../../../src/core/verification/gather'
import { newEs256KeyPair, signCompact } from '../../support/jws-forge'

/**
 * The signature primitive of the verify path refuses, without throwing, every mismatch between
 * the trusted signer's declared algorithm, its key and the signature's shape; the parser hands
 * it exactly the bytes that were signed.
 */
const data = new TextEncoder().encode('eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ')

async function sign(algorithm: AlgorithmIdentifier | EcdsaParams, key: CryptoKey) {
  return new Uint8Array(await crypto.subtle.sign(algorithm, key, data))
}

describe('verifyJwsSignature', () => {
  it('accepts an ES256 signature under the P-256 key of an ES256 signer', async () => {
    const keys = await newEs256KeyPair()
    expect(await verifyJwsSignature({ alg: 'ES256', publicKey: keys.publicKey }, data, await sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey))).toBe(true)
  })

  it('accepts an Ed25519 signature under the key of an EdDSA signer', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    expect(await verifyJwsSignature({ alg: 'EdDSA', publicKey: keys.publicKey }, data, await sign({ name: 'Ed25519' }, keys.privateKey))).toBe(true)
  })

  it('refuses a P-384 key presented as ES256, even over a signature WebCrypto would accept (ECDSA P-384 with SHA-256)', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const signature = await sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey)
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keys.publicKey, signature, data)).toBe(true)
    expect(await verifyJwsSignature({ alg: 'ES256', publicKey: keys.publicKey }, data, signature)).toBe(false)
  })

  it('refuses, without throwing, an Ed25519 key declared ES256 and a P-256 key declared EdDSA', async () => {
    const ed = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    const ec = await newEs256KeyPair()
    expect(await verifyJwsSignature({ alg: 'ES256', publicKey: ed.publicKey }, data, await sign({ name: 'Ed25519' }, ed.privateKey))).toBe(false)
    expect(await verifyJwsSignature({ alg: 'EdDSA', publicKey: ec.publicKey }, data, await sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey))).toBe(false)
  })

  it('refuses an algorithm no trusted signer can have', async () => {
    const keys = await newEs256KeyPair()
    const signature = await sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey)
    expect(await verifyJwsSignature({ alg: 'HS256' as 'ES256', publicKey: keys.publicKey }, data, signature)).toBe(false)
  })

  it.each([0, 32, 63, 65, 72])('refuses an ES256 signature of %i bytes', async (length) => {
    const keys = await newEs256KeyPair()
    const good = await sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey)
    const signature = new Uint8Array(length)
    signature.set(good.subarray(0, Math.min(length, 64)))
    expect(await verifyJwsSignature({ alg: 'ES256', publicKey: keys.publicKey }, data, signature)).toBe(false)
  })
})

describe('parseCompactJws', () => {
  it('hands over the signing input exactly as received and the 64 signature bytes', async () => {
    const keys = await newEs256KeyPair()
    const jws = await signCompact({ alg: 'ES256', kid: 'k', typ: 'vc+jwt' }, { a: 1 }, keys.privateKey)
    const parsed = parseCompactJws(jws)
    expect(new TextDecoder().decode(parsed.signingInput)).toBe(jws.slice(0, jws.lastIndexOf('.')))
    expect(parsed.signature).toHaveLength(64)
    expect(await verifyJwsSignature({ alg: 'ES256', publicKey: keys.publicKey }, parsed.signingInput, parsed.signature)).toBe(true)
  })

  it.each([
    ['a non-canonical last character', 'e30.e30.AB', /not canonical/],
    ['a length no base64 has', 'e30.e30.AAAAA', /not base64url/],
    ['an empty signature', 'e30.e30.', /missing or not base64url/],
    ['padding', 'e30=.e30.AAAA', /not base64url/],
  ])('refuses %s', (_, input, message) => {
    expect(() => parseCompactJws(input)).toThrow(message)
  })
})
