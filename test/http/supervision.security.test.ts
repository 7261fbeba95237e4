import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REQUEST_TAG, signRequest, SUPERVISION_REQUEST_TAG, type SigningKey } from '../../src/adapters/crypto/http-signatures'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest, testUscc } from '../support/fixtures'
import { supervisionKeyPair } from '../support/supervision-receiver'

const URL = 'http://tongban.test/v1/supervision/actions'
let t: TestApp
let system: SigningKey
let stranger: SigningKey
let licence: { id: string; number: string }
let counter = 0
const nonce = () => `sec-nonce-${String(++counter).padStart(8, '0')}-${Date.now()}`

beforeAll(async () => {
  t = await createTestApp()
  const keys = await supervisionKeyPair()
  system = keys.signingKey
  stranger = (await supervisionKeyPair()).signingKey
  // The webhook is never reached in this file: the outbox is not started.
  const registered = await t.request('POST', '/v1/admin/supervision', { json: { name: '龙岗区市场监督管理局', webhookUrl: 'http://127.0.0.1:9/events', publicKey: keys.publicJwk } })
  expect(registered.status).toBe(201)
  const issued = await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: testUscc(201), name: '安全测试有限公司' } }) })
  licence = (await issued.json()) as { id: string; number: string }
})
afterAll(() => t?.close())

const suspendBody = () => ({ action: 'suspend', licenceId: licence.id, reason: '现场检查' })

interface Sent {
  headers: Record<string, string>
  body: Uint8Array
}

async function signed(options: { body?: unknown; key?: SigningKey; now?: Date; nonce?: string; tag?: string; url?: string } = {}): Promise<Sent> {
  const body = new TextEncoder().encode(JSON.stringify(options.body ?? suspendBody()))
  const headers = {
    'content-type': 'application/json',
    ...(await signRequest({ method: 'POST', url: options.url ?? URL, body }, options.key ?? system, options.now ?? new Date(), options.nonce ?? nonce(), options.tag ?? SUPERVISION_REQUEST_TAG)),
  }
  return { headers, body }
}

async function send(sent: Sent) {
  const response = await t.app.request('/v1/supervision/actions', { method: 'POST', headers: sent.headers, body: sent.body as BodyInit })
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as { code?: string; licence?: { status: string } } }
}

/** Every refusal must leave the licence as it was, its history included. */
async function expectUntouched() {
  const shown = (await (await t.request('GET', `/v1/licences/${licence.id}`)).json()) as { status: string; events: unknown[] }
  expect(shown.status).toBe('active')
  expect(shown.events).toHaveLength(1)
  // Only the issuance's event is in the outbox: a refused call announces nothing.
  expect(await t.db.query('SELECT count(*)::int AS n FROM outbox_messages')).toEqual([{ n: 1 }])
}

async function expectRefused(sent: Sent, code: string) {
  const answer = await send(sent)
  expect(answer.status).toBe(401)
  expect(answer.type).toBe('application/problem+json')
  expect(answer.body.code).toBe(code)
  await expectUntouched()
}

describe('the supervision door refuses', () => {
  it('an unsigned call (supervision_unsigned)', async () => {
    await expectRefused({ headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(suspendBody())) }, 'supervision_unsigned')
  })

  it('a key no supervision system is registered with (supervision_unknown_key)', async () => {
    await expectRefused(await signed({ key: stranger }), 'supervision_unknown_key')
  })

  it('the region’s own partner-auth key: it is no supervision system’s key (supervision_unknown_key)', async () => {
    const partnerKey = { keyid: await kidOf(t.pki['partner-auth'].certificate), privateKey: t.pki['partner-auth'].privateKey as CryptoKey }
    await expectRefused(await signed({ key: partnerKey }), 'supervision_unknown_key')
  })

  it('a forgery: another key’s signature under the registered keyid (supervision_bad_signature)', async () => {
    await expectRefused(await signed({ key: { keyid: system.keyid, privateKey: stranger.privateKey } }), 'supervision_bad_signature')
  })

  it('a signature made for another target (supervision_bad_signature)', async () => {
    await expectRefused(await signed({ url: 'http://tongban.test/v1/supervision/other' }), 'supervision_bad_signature')
  })

  it('a changed body (supervision_digest_mismatch), and a changed body with a recomputed digest (supervision_bad_signature)', async () => {
    const honest = await signed()
    const revoke = new TextEncoder().encode(JSON.stringify({ ...suspendBody(), action: 'revoke' }))
    await expectRefused({ headers: honest.headers, body: revoke }, 'supervision_digest_mismatch')
    const digest = `sha-256=:${Buffer.from(await crypto.subtle.digest('SHA-256', revoke)).toString('base64')}:`
    const again = await signed()
    await expectRefused({ headers: { ...again.headers, 'content-digest': digest }, body: revoke }, 'supervision_bad_signature')
  })

  it('a call signed with the partner tag (supervision_malformed_signature)', async () => {
    await expectRefused(await signed({ tag: REQUEST_TAG }), 'supervision_malformed_signature')
  })

  it('a call signed five minutes ago (supervision_outside_clock_window)', async () => {
    await expectRefused(await signed({ now: new Date(Date.now() - 5 * 60_000) }), 'supervision_outside_clock_window')
  })

  it('a replay: the same call again, and a new call reusing a nonce (supervision_replayed)', async () => {
    const reused = nonce()
    const first = await signed({ body: { action: 'suspend', licenceId: crypto.randomUUID(), reason: '检查' }, nonce: reused })
    // The first is accepted by the door (and answered 404: no such licence), which spends its nonce.
    expect((await send(first)).status).toBe(404)
    await expectRefused(first, 'supervision_replayed')
    await expectRefused(await signed({ nonce: reused }), 'supervision_replayed')
  })

  it('and the honest call passes (the baseline the refusals above spoil)', async () => {
    const answer = await send(await signed())
    expect(answer.status).toBe(200)
    expect(answer.body.licence?.status).toBe('suspended')
  })
})
