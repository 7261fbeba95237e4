import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  contentDigest,
  innerList,
  PartnerSignatureError,
  signatureBase,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
  type SignedRequest,
  type VerifyingKey,
} from '../../../src/adapters/crypto/http-signatures'

// RFC 9421 Appendix B.1.3 test-key-ecc-p256 and B.1.4 test-key-ed25519 (test/vectors/SOURCES.md).
const vector = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'vectors', 'rfc9421', name), 'utf8')
const ECC_P256 = vector('test-key-ecc-p256.pem')
const ED25519 = vector('test-key-ed25519.pem')

const encoder = new TextEncoder()

async function p256Pair() {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair
  return keys
}

describe('RFC 9421 Appendix B examples through our signature base', () => {
  it('B.2.4: the response signature base is the RFC’s, and its ecdsa-p256-sha256 signature verifies with test-key-ecc-p256', async () => {
    const response = {
      status: 200,
      headers: {
        date: 'Tue, 20 Apr 2021 02:07:56 GMT',
        'content-type': 'application/json',
        'content-digest': 'sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:',
        'content-length': '23',
      },
    }
    const components = ['@status', 'content-type', 'content-digest', 'content-length']
    const base = signatureBase(components, innerList(components, [['created', 1618884473], ['keyid', 'test-key-ecc-p256']]), response)
    expect(base).toBe(
      '"@status": 200\n' +
        '"content-type": application/json\n' +
        '"content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:\n' +
        '"content-length": 23\n' +
        '"@signature-params": ("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256"',
    )
    const jwk = createPublicKey(createPrivateKey(ECC_P256)).export({ format: 'jwk' })
    const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
    const signature = Buffer.from('wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==', 'base64')
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, encoder.encode(base))).toBe(true)
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, encoder.encode(base.replace('200', '201')))).toBe(false)
  })

  it('B.2.6: the request signature base signed with test-key-ed25519 gives the RFC’s signature byte for byte', async () => {
    const request = {
      method: 'POST',
      url: 'https://example.com/foo?param=Value&Pet=dog',
      headers: {
        date: 'Tue, 20 Apr 2021 02:07:55 GMT',
        'content-type': 'application/json',
        'content-length': '18',
      },
    }
    const components = ['date', '@method', '@path', '@authority', 'content-type', 'content-length']
    const base = signatureBase(components, innerList(components, [['created', 1618884473], ['keyid', 'test-key-ed25519']]), request)
    expect(base).toBe(
      '"date": Tue, 20 Apr 2021 02:07:55 GMT\n' +
        '"@method": POST\n' +
        '"@path": /foo\n' +
        '"@authority": example.com\n' +
        '"content-type": application/json\n' +
        '"content-length": 18\n' +
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    )
    const der = createPrivateKey(ED25519).export({ format: 'der', type: 'pkcs8' })
    const key = await crypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign'])
    const signature = Buffer.from(await crypto.subtle.sign({ name: 'Ed25519' }, key, encoder.encode(base))).toString('base64')
    expect(signature).toBe('wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==')
  })

  it('B.2.4 and RFC 9530: the bodies’ digests are the ones the examples carry', async () => {
    const { createHash } = await import('node:crypto')
    expect(createHash('sha512').update('{"message": "good dog"}').digest('base64')).toBe('mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==')
  })

  it('RFC 9530 §2: the Content-Digest of {"hello": "world"}', async () => {
    expect(contentDigest(encoder.encode('{"hello": "world"}'))).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
  })
})

describe('the tongban partner profile', () => {
  const now = new Date('2026-12-04T10:00:00Z')
  const url = 'https://tongban.lg.example/v1/partner/verify'
  const body = encoder.encode('{"credential":"x.y.z"}')

  async function setUp() {
    const pair = await p256Pair()
    const other = await p256Pair()
    const key: VerifyingKey = { keyid: 'k-gz', publicKey: pair.publicKey, region: '360700' }
    const lookup = (keyid: string) => (keyid === 'k-gz' ? key : keyid === 'k-lg' ? { keyid: 'k-lg', publicKey: other.publicKey, region: '440307' } : undefined)
    const headers = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url, body }, { keyid: 'k-gz', privateKey: pair.privateKey }, now, 'nonce-0123456789abcdef')) }
    const request: SignedRequest = { method: 'POST', url, headers, body }
    return { pair, other, lookup, request }
  }

  async function refusal(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(PartnerSignatureError)
    return (error as PartnerSignatureError).code
  }

  it('a signed request verifies, naming the key, nonce and window', async () => {
    const { lookup, request } = await setUp()
    expect(request.headers['signature-input']).toBe(
      'tongban=("@method" "@target-uri" "content-digest");created=1796378400;expires=1796378460;nonce="nonce-0123456789abcdef";keyid="k-gz";alg="ecdsa-p256-sha256";tag="tongban-partner-request"',
    )
    const verified = await verifyRequest(request, lookup, new Date(now.getTime() + 5_000))
    expect(verified.key.region).toBe('360700')
    expect(verified.nonce).toBe('nonce-0123456789abcdef')
  })

  it('refuses an unsigned request, a changed body, method or target, an unknown key and a second signature', async () => {
    const { lookup, request } = await setUp()
    const { signature: _s, 'signature-input': _i, ...unsigned } = request.headers
    expect(await refusal(verifyRequest({ ...request, headers: unsigned }, lookup, now))).toBe('partner_unsigned')
    expect(await refusal(verifyRequest({ ...request, body: encoder.encode('{"credential":"a.b.c"}') }, lookup, now))).toBe('partner_digest_mismatch')
    expect(await refusal(verifyRequest({ ...request, method: 'PUT' }, lookup, now))).toBe('partner_bad_signature')
    expect(await refusal(verifyRequest({ ...request, url: url.replace('verify', 'applications') }, lookup, now))).toBe('partner_bad_signature')
    const strange = { ...request.headers, 'signature-input': request.headers['signature-input']!.replace('keyid="k-gz"', 'keyid="k-unknown"') }
    expect(await refusal(verifyRequest({ ...request, headers: strange }, lookup, now))).toBe('partner_unknown_key')
    const twice = { ...request.headers, signature: `${request.headers.signature}, other=:AAAA:`, 'signature-input': `${request.headers['signature-input']}, other=("@method");created=1` }
    expect(await refusal(verifyRequest({ ...request, headers: twice }, lookup, now))).toBe('partner_malformed_signature')
  })

  it('refuses a request signed over fewer components, or without a nonce', async () => {
    const { lookup, request } = await setUp()
    const fewer = { ...request.headers, 'signature-input': request.headers['signature-input']!.replace(' "content-digest"', '') }
    expect(await refusal(verifyRequest({ ...request, headers: fewer }, lookup, now))).toBe('partner_malformed_signature')
    const noNonce = { ...request.headers, 'signature-input': request.headers['signature-input']!.replace(';nonce="nonce-0123456789abcdef"', '') }
    expect(await refusal(verifyRequest({ ...request, headers: noNonce }, lookup, now))).toBe('partner_malformed_signature')
  })

  it('refuses a request outside its clock window, either way', async () => {
    const { lookup, request } = await setUp()
    expect(await refusal(verifyRequest(request, lookup, new Date(now.getTime() + 120_000)))).toBe('partner_outside_clock_window')
    expect(await refusal(verifyRequest(request, lookup, new Date(now.getTime() - 120_000)))).toBe('partner_outside_clock_window')
  })

  it('an answer verifies only for the request it answers, from the partner it was sent to', async () => {
    const { other, lookup, request } = await setUp()
    const answer = encoder.encode('{"indication":"TOTAL_PASSED"}')
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(await signResponse({ status: 200, body: answer }, request, { keyid: 'k-lg', privateKey: other.privateKey }, now)) }
    const response = { status: 200, headers, body: answer }
    expect((await verifyResponse(response, request, lookup, '440307')).region).toBe('440307')
    expect(await refusal(verifyResponse(response, request, lookup, '360700'))).toBe('partner_unknown_key')
    expect(await refusal(verifyResponse({ ...response, status: 403 }, request, lookup, '440307'))).toBe('partner_bad_signature')
    expect(await refusal(verifyResponse({ ...response, body: encoder.encode('{"indication":"TOTAL_FAILED"}') }, request, lookup, '440307'))).toBe('partner_digest_mismatch')
    // The same answer presented for another request: the request's signature it is bound to differs.
    const { request: another } = await setUp()
    expect(await refusal(verifyResponse(response, another, lookup, '440307'))).toBe('partner_bad_signature')
    const { signature: _s, 'signature-input': _i, ...unsigned } = headers
    expect(await refusal(verifyResponse({ ...response, headers: unsigned }, request, lookup, '440307'))).toBe('partner_unsigned')
  })
})
