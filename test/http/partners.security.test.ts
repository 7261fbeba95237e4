import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest, type SigningKey } from '../../src/adapters/crypto/http-signatures'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { createPartnerPair, registerBoth, scopeOf, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
let gzKey: SigningKey
let credential: string
let hygieneCredential: string

const VERIFY_URL = 'http://lg.test/v1/partner/verify'
let counter = 0
const nonce = () => `test-nonce-${String(++counter).padStart(8, '0')}-${Date.now()}`

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  pair.lg.deps.partners.scope = scopeOf({ '360700': { 'business-licence': ['entityType'] } }, { requests: 1000, perSeconds: 60 })
  pair.gz.deps.partners.scope = scopeOf({ '440307': {} })
  gzKey = { keyid: await kidOf(pair.gz.pki['partner-auth'].certificate), privateKey: pair.gz.pki['partner-auth'].privateKey! }
  const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00002'), name: '深圳龙岗测试有限公司' }
  credential = ((await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })).json()) as { credential: string }).credential
  const hygiene = await pair.lg.request('POST', '/v1/licences', {
    json: {
      type: 'public-place-hygiene-licence',
      holder,
      fields: { legalRepresentative: '李四', address: '深圳市龙岗区龙城街道龙岗测试宾馆', premisesType: '住宿场所', area: 1200 },
      validFrom: '2026-01-05',
      validUntil: '2030-01-04',
    },
  })
  expect(hygiene.status).toBe(201)
  hygieneCredential = ((await hygiene.json()) as { credential: string }).credential
})
afterAll(() => pair.close())

/** Sends a partner request to 龙岗 as 赣州 would, with the chance to spoil it on the way. */
async function send(options: { body?: unknown; key?: SigningKey; now?: Date; nonce?: string; spoil?: (headers: Record<string, string>, body: Uint8Array) => { headers: Record<string, string>; body: Uint8Array } } = {}) {
  let body: Uint8Array = new TextEncoder().encode(JSON.stringify(options.body ?? { credential }))
  let headers: Record<string, string> = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url: VERIFY_URL, body }, options.key ?? gzKey, options.now ?? new Date(), options.nonce ?? nonce())) }
  if (options.spoil) ({ headers, body } = options.spoil(headers, body))
  const response = await pair.lg.app.request('/v1/partner/verify', { method: 'POST', headers, body: body as BodyInit })
  return { response, problem: response.status >= 400 ? ((await response.clone().json()) as { code: string }) : undefined }
}

describe('the partner door refuses', () => {
  it('an honest request passes (the baseline the refusals below spoil)', async () => {
    const { response } = await send()
    expect(response.status).toBe(200)
    expect(response.headers.get('signature-input')).toMatch(/^tongban=\("@status" "content-digest" "@method";req "@target-uri";req "signature";req;key="tongban"\)/)
  })

  it('an unsigned request (401 partner_unsigned)', async () => {
    const response = await pair.lg.app.request('/v1/partner/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }) })
    expect(response.status).toBe(401)
    expect(((await response.json()) as { code: string }).code).toBe('partner_unsigned')
  })

  it('a tampered body (401 partner_digest_mismatch)', async () => {
    const { response, problem } = await send({ spoil: (headers) => ({ headers, body: new TextEncoder().encode(JSON.stringify({ credential: hygieneCredential })) }) })
    expect([response.status, problem?.code]).toEqual([401, 'partner_digest_mismatch'])
  })

  it('a tampered body with its digest recomputed (401 partner_bad_signature)', async () => {
    const { contentDigest } = await import('../../src/adapters/crypto/http-signatures')
    const forged = new TextEncoder().encode(JSON.stringify({ credential: hygieneCredential }))
    const digest = contentDigest(forged)
    const { response, problem } = await send({ spoil: (headers) => ({ headers: { ...headers, 'content-digest': digest }, body: forged }) })
    expect([response.status, problem?.code]).toEqual([401, 'partner_bad_signature'])
  })

  it('an old timestamp (401 partner_outside_clock_window)', async () => {
    const { response, problem } = await send({ now: new Date(Date.now() - 10 * 60_000) })
    expect([response.status, problem?.code]).toEqual([401, 'partner_outside_clock_window'])
  })

  it('a replayed nonce (401 partner_replayed), also when the replay is signed afresh', async () => {
    const reused = nonce()
    expect((await send({ nonce: reused })).response.status).toBe(200)
    const again = await send({ nonce: reused })
    expect([again.response.status, again.problem?.code]).toEqual([401, 'partner_replayed'])
  })

  it('an exact replay of a captured request (401 partner_replayed)', async () => {
    const body = new TextEncoder().encode(JSON.stringify({ credential }))
    const headers = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url: VERIFY_URL, body }, gzKey, new Date(), nonce())) }
    expect((await pair.lg.app.request('/v1/partner/verify', { method: 'POST', headers, body })).status).toBe(200)
    const replay = await pair.lg.app.request('/v1/partner/verify', { method: 'POST', headers, body })
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { code: string }).code).toBe('partner_replayed')
  })

  it('a request signed by a key outside every trust list, or by 赣州’s document signer (401 partner_unknown_key)', async () => {
    const stranger = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])) as CryptoKeyPair
    expect((await send({ key: { keyid: 'stranger', privateKey: stranger.privateKey } })).problem?.code).toBe('partner_unknown_key')
    const documentSigner = { keyid: await kidOf(pair.gz.pki['document-signer'].certificate), privateKey: pair.gz.pki['document-signer'].privateKey! }
    expect((await send({ key: documentSigner })).problem?.code).toBe('partner_unknown_key')
  })

  it('a request claiming 赣州’s keyid but signed by another key (401 partner_bad_signature)', async () => {
    const stranger = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])) as CryptoKeyPair
    expect((await send({ key: { keyid: gzKey.keyid, privateKey: stranger.privateKey } })).problem?.code).toBe('partner_bad_signature')
  })

  it('a licence type outside the agreement (403 outside_agreement), revealing nothing of it', async () => {
    const { response, problem } = await send({ body: { credential: hygieneCredential } })
    expect([response.status, problem?.code]).toEqual([403, 'outside_agreement'])
    const text = JSON.stringify(problem)
    expect(text).not.toContain('龙岗测试宾馆')
    expect(text).not.toContain('李四')
    expect(response.headers.get('signature')).toMatch(/^tongban=:/)
  })

  it('fields beyond the agreement are never shown', async () => {
    const { response } = await send()
    const { report } = (await response.json()) as { report: { licence: { fields: Record<string, unknown> } } }
    expect(Object.keys(report.licence.fields)).toEqual(['entityType'])
  })

  it('any call without an agreement in force (403 no_active_agreement)', async () => {
    const scope = pair.lg.deps.partners.scope
    pair.lg.deps.partners.scope = scopeOf({})
    try {
      const { response, problem } = await send()
      expect([response.status, problem?.code]).toEqual([403, 'no_active_agreement'])
    } finally {
      pair.lg.deps.partners.scope = scope
    }
  })

  it('calls above the agreement’s rate (429 partner_rate_limited with Retry-After)', async () => {
    const scope = pair.lg.deps.partners.scope
    pair.lg.deps.partners.scope = scopeOf({ '360700': { 'business-licence': [] } }, { requests: 3, perSeconds: 3600 })
    pair.lg.deps.partners.limiter = new (await import('../../src/adapters/partner/rate-limiter')).RateLimiter()
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await send()).response.status)
      expect(statuses).toEqual([200, 200, 200, 429, 429])
      const { response, problem } = await send()
      expect(problem?.code).toBe('partner_rate_limited')
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      pair.lg.deps.partners.scope = scope
    }
  })
})

describe('the calling side refuses answers it cannot trust', () => {
  it('an unsigned answer, and a forged one, are 502 partner_answer_unverified', async () => {
    pair.override('lg.test', '/v1/partner/verify', async () => new Response(JSON.stringify({ report: { indication: 'TOTAL_PASSED' } }), { status: 200, headers: { 'content-type': 'application/json' } }))
    try {
      const unsigned = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { credential } })
      expect(unsigned.status).toBe(502)
      expect(((await unsigned.json()) as { code: string }).code).toBe('partner_answer_unverified')
    } finally {
      pair.override('lg.test', '/v1/partner/verify', undefined)
    }
    // A genuine answer whose body is swapped on the way: its signature no longer fits.
    pair.override('lg.test', '/v1/partner/verify', async (request) => {
      const real = await pair.lg.app.request('/v1/partner/verify', { method: 'POST', headers: request.headers, body: await request.arrayBuffer() })
      const body = JSON.stringify({ report: { indication: 'TOTAL_PASSED', forged: true } })
      const headers = new Headers(real.headers)
      headers.set('content-digest', (await import('../../src/adapters/crypto/http-signatures')).contentDigest(new TextEncoder().encode(body)))
      return new Response(body, { status: 200, headers })
    })
    try {
      const forged = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { credential } })
      expect(forged.status).toBe(502)
      expect(((await forged.json()) as { code: string }).code).toBe('partner_answer_unverified')
    } finally {
      pair.override('lg.test', '/v1/partner/verify', undefined)
    }
  })
})
