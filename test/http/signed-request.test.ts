import { describe, expect, it } from 'vitest'
import { PartnerSignatureError, signRequest, type SignedRequest, type VerifyingKey } from '../../src/adapters/crypto/http-signatures'
import { verifyFreshRequest, type NonceStore } from '../../src/http/middleware/signed-request'

const now = new Date('2026-12-04T10:00:00Z')
const url = 'https://tongban.lg.example/v1/partner/verify'
const body = new TextEncoder().encode('{"credential":"x.y.z"}')

/** Nonces in memory, as the database keeps them: a nonce is claimed once per namespace. */
function memoryNonces(): NonceStore & { claimed: string[] } {
  const claimed: string[] = []
  return {
    claimed,
    async claimNonce(namespace, nonce) {
      const name = `${namespace}/${nonce}`
      if (claimed.includes(name)) return false
      claimed.push(name)
      return true
    },
  }
}

async function setUp() {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair
  const key: VerifyingKey = { keyid: 'k-gz', publicKey: pair.publicKey, region: '360700' }
  const headers = await signRequest({ method: 'POST', url, body }, { keyid: 'k-gz', privateKey: pair.privateKey }, now, 'nonce-0123456789abcdef')
  const request: SignedRequest = { method: 'POST', url, headers, body }
  return { request, lookup: (keyid: string) => (keyid === 'k-gz' ? key : undefined) }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(PartnerSignatureError)
  return (error as PartnerSignatureError).code
}

describe('a signed request at the door: signature checked and nonce claimed together', () => {
  it('accepts a request once, claiming its nonce in its key’s namespace, and refuses it again as a replay', async () => {
    const { request, lookup } = await setUp()
    const nonces = memoryNonces()
    expect((await verifyFreshRequest(request, lookup, nonces, now)).nonce).toBe('nonce-0123456789abcdef')
    expect(nonces.claimed).toEqual(['360700/nonce-0123456789abcdef'])
    expect(await refusal(verifyFreshRequest(request, lookup, nonces, now))).toBe('partner_replayed')
  })

  it('reports a bad signature before a replay: a forgery under a used nonce is a forgery', async () => {
    const { request, lookup } = await setUp()
    const nonces = memoryNonces()
    await verifyFreshRequest(request, lookup, nonces, now)
    expect(await refusal(verifyFreshRequest({ ...request, method: 'PUT' }, lookup, nonces, now))).toBe('partner_bad_signature')
  })

  it('claims no nonce for a request refused before its signature is checked (unknown key, outside the window)', async () => {
    const { request, lookup } = await setUp()
    const nonces = memoryNonces()
    expect(await refusal(verifyFreshRequest(request, lookup, nonces, new Date(now.getTime() + 120_000)))).toBe('partner_outside_clock_window')
    expect(await refusal(verifyFreshRequest(request, () => undefined, nonces, now))).toBe('partner_unknown_key')
    expect(nonces.claimed).toEqual([])
  })

  it('refuses a forgery with a fresh nonce; the nonce it named was claimed while its signature was checked', async () => {
    const { request, lookup } = await setUp()
    const nonces = memoryNonces()
    expect(await refusal(verifyFreshRequest({ ...request, method: 'PUT' }, lookup, nonces, now))).toBe('partner_bad_signature')
    expect(nonces.claimed).toEqual(['360700/nonce-0123456789abcdef'])
  })
})
