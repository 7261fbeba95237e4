import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest, SUPERVISION_REQUEST_TAG } from '../../src/adapters/crypto/http-signatures'
import { createTestApp, type TestApp } from '../support/app'
import { hygieneApplication, uploadAttachments } from '../support/applications'
import { businessLicenceRequest, testUscc } from '../support/fixtures'
import { attestationJwk, startSupervisionReceiver, supervisionKeyPair, type SupervisionReceiver } from '../support/supervision-receiver'

let t: TestApp
let receiver: SupervisionReceiver
let keys: Awaited<ReturnType<typeof supervisionKeyPair>>
let systemId: string
const NAME = '赣州市市场监督管理局'
let counter = 0

function hasJoseCli(): boolean {
  try {
    execFileSync('jose', ['alg'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

beforeAll(async () => {
  t = await createTestApp({ outboxBackoff: { baseMs: 50, capMs: 200 } })
  receiver = await startSupervisionReceiver({
    name: NAME,
    trustList: async () => (await t.request('GET', '/v1/trust-list', { token: null })).text(),
    rootFingerprint: t.deps.publication.rootFingerprint,
  })
  keys = await supervisionKeyPair()
  const registered = await t.request('POST', '/v1/admin/supervision', { json: { name: NAME, webhookUrl: receiver.url, publicKey: keys.publicJwk } })
  expect(registered.status).toBe(201)
  systemId = ((await registered.json()) as { id: string }).id
  t.outbox.start(50)
})
afterAll(async () => {
  await t?.close()
  await receiver?.close()
})

async function issue(n: number) {
  const response = await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: testUscc(n), name: `赣州测试${n}有限公司` } }) })
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; number: string }
}

function eventsOf(licenceIds: string[]) {
  return receiver.events.filter((e) => licenceIds.includes(e.licence.id))
}

/** The outbox row of a received event, once the dispatcher has recorded the outcome the receiver answered. */
async function deliveredRow(jws: string | undefined) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const [row] = await outboxRows(`body = '${jws}'`)
    if (row?.state === 'delivered' || Date.now() > deadline) return row
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function outboxRows(where = 'true') {
  return t.db.query<{ id: string; state: string; attempts: number }>(`SELECT id, state, attempts FROM outbox_messages WHERE ${where}`)
}

describe('registering a supervision system', () => {
  it('answers with the key’s RFC 7638 thumbprint as its keyid, and lists it with its delivery', async () => {
    const list = await t.request('GET', '/v1/admin/supervision')
    expect(list.status).toBe(200)
    const { systems } = (await list.json()) as { systems: Array<{ id: string; name: string; keyid: string; webhookUrl: string; delivery: { pending: number } }> }
    const mine = systems.find((s) => s.id === systemId)
    expect(mine).toMatchObject({ name: NAME, webhookUrl: receiver.url, keyid: keys.signingKey.keyid })
    expect(mine?.delivery.pending).toBeGreaterThanOrEqual(0)
  })

  it('refuses a second system of the same name or with the same key (409), and a private key (422)', async () => {
    const sameName = await t.request('POST', '/v1/admin/supervision', { json: { name: NAME, webhookUrl: receiver.url, publicKey: (await supervisionKeyPair()).publicJwk } })
    expect(sameName.status).toBe(409)
    expect(((await sameName.json()) as { code: string }).code).toBe('supervision_system_exists')
    const sameKey = await t.request('POST', '/v1/admin/supervision', { json: { name: 'other', webhookUrl: receiver.url, publicKey: keys.publicJwk } })
    expect(sameKey.status).toBe(409)
    expect(((await sameKey.json()) as { code: string }).code).toBe('supervision_key_in_use')
    const leaked = await t.request('POST', '/v1/admin/supervision', { json: { name: 'leaky', webhookUrl: receiver.url, publicKey: keys.privateJwk } })
    expect(leaked.status).toBe(422)
    expect(((await leaked.json()) as { code: string }).code).toBe('invalid_supervision_key')
    const rsa = await t.request('POST', '/v1/admin/supervision', { json: { name: 'rsa', webhookUrl: receiver.url, publicKey: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } } })
    expect(rsa.status).toBe(422)
    const offCurve = await t.request('POST', '/v1/admin/supervision', { json: { name: 'off', webhookUrl: receiver.url, publicKey: { ...keys.publicJwk, y: keys.publicJwk.x } } })
    expect(offCurve.status).toBe(422)
    const names = ((await (await t.request('GET', '/v1/admin/supervision')).json()) as { systems: Array<{ name: string }> }).systems.map((s) => s.name)
    expect(names).toEqual([NAME])
  })

  it('needs the admin token', async () => {
    expect((await t.request('GET', '/v1/admin/supervision', { token: null })).status).toBe(401)
    const post = await t.request('POST', '/v1/admin/supervision', { token: 'wrong-token-000000000', json: { name: 'x', webhookUrl: receiver.url, publicKey: keys.publicJwk } })
    expect(post.status).toBe(401)
  })
})

describe('licence events reach the supervision webhook', () => {
  it('an issuance arrives as a tongban-event+jwt signed by the attestation key of the trust list', async () => {
    const licence = await issue(101)
    await receiver.waitFor(() => eventsOf([licence.id]).length === 1)
    const [event] = eventsOf([licence.id])
    expect(event).toMatchObject({
      type: 'licence.issued',
      aud: NAME,
      iss: 'http://tongban.test',
      reason: null,
      actor: 'admin',
      licence: { id: licence.id, number: licence.number, version: 1, status: 'active', type: { key: 'business-licence' }, holder: { uscc: testUscc(101) } },
    })
    expect(event?.messageIdHeader).toBe(event?.jti)
    expect(receiver.refused).toEqual([])
  })

  it.skipIf(!hasJoseCli())('and the event verifies with a second JOSE implementation (José, the jose CLI) and the trust list’s attestation key', async () => {
    const licence = await issue(102)
    await receiver.waitFor(() => eventsOf([licence.id]).length === 1)
    const dir = await mkdtemp(join(tmpdir(), 'tongban-jose-'))
    try {
      await writeFile(join(dir, 'event.jws'), eventsOf([licence.id])[0]?.jws ?? '')
      await writeFile(join(dir, 'key.jwk'), JSON.stringify(await attestationJwk(t.pki['attestation-signer'].certificate)))
      const payload = JSON.parse(execFileSync('jose', ['jws', 'ver', '-i', join(dir, 'event.jws'), '-k', join(dir, 'key.jwk'), '-O', '-']).toString()) as { licence: { id: string } }
      expect(payload.licence.id).toBe(licence.id)
      // The document signer's key is in the trust list too, but it does not sign events.
      const other = await attestationJwk(t.pki['document-signer'].certificate)
      await writeFile(join(dir, 'other.jwk'), JSON.stringify(other))
      expect(() => execFileSync('jose', ['jws', 'ver', '-i', join(dir, 'event.jws'), '-k', join(dir, 'other.jwk'), '-O', '-'], { stdio: 'pipe' })).toThrow()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('change, suspension, reinstatement and revocation follow, numbered without gaps', async () => {
    const licence = await issue(103)
    const changed = await t.request('POST', `/v1/licences/${licence.id}/change`, { json: { reason: '名称变更', holderName: '赣州新名有限公司' } })
    expect(changed.status).toBe(201)
    const next = (await changed.json()) as { id: string; number: string }
    for (const [action, reason] of [['suspend', '停业整顿'], ['reinstate', '整改完成'], ['revoke', '吊销']] as const) {
      expect((await t.request('POST', `/v1/licences/${next.id}/${action}`, { json: { reason } })).status).toBe(200)
    }
    await receiver.waitFor(() => eventsOf([licence.id, next.id]).length === 5)
    const events = eventsOf([licence.id, next.id]).sort((a, b) => a.seq - b.seq)
    expect(events.map((e) => e.type)).toEqual(['licence.issued', 'licence.changed', 'licence.suspended', 'licence.reinstated', 'licence.revoked'])
    expect(events[1]).toMatchObject({ licence: { id: next.id, version: 2, holder: { name: '赣州新名有限公司' } }, previous: { id: licence.id, number: licence.number, version: 1 }, reason: '名称变更' })
    expect(events.map((e) => e.reason).slice(2)).toEqual(['停业整顿', '整改完成', '吊销'])
    const all = [...receiver.events].sort((a, b) => a.seq - b.seq)
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1))
  })

  it('a licence issued by approving an application is announced too', async () => {
    await uploadAttachments(t, hygieneApplication().attachments)
    const created = await t.request('POST', '/v1/applications', { json: hygieneApplication({ applicant: { kind: 'enterprise', uscc: testUscc(104), name: '赣州申请宾馆有限公司' } }) })
    if (created.status !== 201) return expect.fail(`application not created: ${await created.text()}`)
    const { id } = (await created.json()) as { id: string }
    for (const decision of [{ action: 'accept' }, { action: 'review' }, { action: 'approve', licence: { validUntil: '2030-12-03' } }]) {
      const answer = await t.request('POST', `/v1/applications/${id}/decisions`, { json: decision })
      if (answer.status !== 200) return expect.fail(`${decision.action}: ${await answer.text()}`)
    }
    await receiver.waitFor(() => receiver.events.some((e) => e.licence.holder.uscc === testUscc(104)))
    expect(receiver.events.find((e) => e.licence.holder.uscc === testUscc(104))).toMatchObject({ type: 'licence.issued', licence: { type: { key: 'public-place-hygiene-licence' } } })
  })
})

describe('delivery when the webhook fails', () => {
  it('a webhook that is down gets the event once it is back, and the admin sees it waiting meanwhile', async () => {
    receiver.mode = 'down'
    const before = receiver.arrivals
    const licence = await issue(105)
    await receiver.waitFor(() => receiver.arrivals >= before + 2)
    const waiting = ((await (await t.request('GET', '/v1/admin/supervision')).json()) as { systems: Array<{ id: string; delivery: { pending: number; lastError: string | null } }> }).systems.find((s) => s.id === systemId)
    expect(waiting?.delivery.pending).toBe(1)
    expect(waiting?.delivery.lastError).toMatch(/HTTP 503/)
    expect(eventsOf([licence.id])).toEqual([])
    receiver.mode = 'up'
    await receiver.waitFor(() => eventsOf([licence.id]).length === 1)
    const row = await deliveredRow(eventsOf([licence.id])[0]?.jws)
    expect(row?.state).toBe('delivered')
    expect(row?.attempts).toBeGreaterThanOrEqual(3)
  })

  it('an answer that is lost makes the event arrive twice with the same id, and the receiver keeps it once', async () => {
    receiver.mode = 'lose-answer'
    const duplicates = receiver.duplicates
    const licence = await issue(106)
    await receiver.waitFor(() => receiver.duplicates === duplicates + 1)
    expect(eventsOf([licence.id])).toHaveLength(1)
    expect(await deliveredRow(eventsOf([licence.id])[0]?.jws)).toMatchObject({ state: 'delivered', attempts: 2 })
  })
})

describe('nothing is announced that did not happen', () => {
  it('a refused change writes no event', async () => {
    const licence = await issue(107)
    await receiver.waitFor(() => eventsOf([licence.id]).length === 1)
    const before = (await outboxRows()).length
    expect((await t.request('POST', `/v1/licences/${licence.id}/reinstate`, { json: {} })).status).toBe(409)
    expect((await t.request('POST', `/v1/licences/${licence.id}/change`, { json: { reason: 'x', fields: { nope: 1 } } })).status).toBe(422)
    expect((await outboxRows()).length).toBe(before)
  })
})

describe('a supervision system acts on a licence with a signed call', () => {
  async function act(body: unknown) {
    const bytes = new TextEncoder().encode(JSON.stringify(body))
    const url = 'http://tongban.test/v1/supervision/actions'
    const headers = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url, body: bytes }, keys.signingKey, new Date(), `happy-nonce-${String(++counter).padStart(6, '0')}-${Date.now()}`, SUPERVISION_REQUEST_TAG)) }
    return t.app.request('/v1/supervision/actions', { method: 'POST', headers, body: bytes })
  }

  it('suspends with its reason on the licence’s history, and the suspension is announced', async () => {
    const licence = await issue(108)
    const answer = await act({ action: 'suspend', licenceNumber: licence.number, reason: '现场检查发现无证经营场所', reference: '赣市监检〔2026〕12号' })
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ licence: { id: licence.id, status: 'suspended' } })
    const history = ((await (await t.request('GET', `/v1/licences/${licence.id}`)).json()) as { status: string; events: Array<{ action: string; reason: string; actor: string }> })
    expect(history.status).toBe('suspended')
    expect(history.events.at(-1)).toEqual(expect.objectContaining({ action: 'suspended', actor: `supervision:${NAME}`, reason: `现场检查发现无证经营场所 (${NAME} reference 赣市监检〔2026〕12号)` }))
    await receiver.waitFor(() => eventsOf([licence.id]).some((e) => e.type === 'licence.suspended'))
    expect(eventsOf([licence.id]).find((e) => e.type === 'licence.suspended')?.actor).toBe(`supervision:${NAME}`)
  })

  it('revokes by id; revoking again is a 409 that changes nothing; an unknown licence is a 404', async () => {
    const licence = await issue(109)
    expect((await act({ action: 'revoke', licenceId: licence.id, reason: '吊销' })).status).toBe(200)
    const eventsBefore = ((await (await t.request('GET', `/v1/licences/${licence.id}`)).json()) as { events: unknown[] }).events.length
    const again = await act({ action: 'revoke', licenceId: licence.id, reason: '再次吊销' })
    expect(again.status).toBe(409)
    expect(again.headers.get('content-type')).toBe('application/problem+json')
    expect(((await again.json()) as { code: string }).code).toBe('invalid_transition')
    expect(((await (await t.request('GET', `/v1/licences/${licence.id}`)).json()) as { events: unknown[] }).events.length).toBe(eventsBefore)
    const unknown = await act({ action: 'suspend', licenceId: crypto.randomUUID(), reason: '检查' })
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { code: string }).code).toBe('licence_not_found')
    const unknownNumber = await act({ action: 'suspend', licenceNumber: 'no-such-number', reason: '检查' })
    expect(unknownNumber.status).toBe(404)
  })

  it('a body that is signed but not an action is a 400 naming the problem', async () => {
    const answer = await act({ action: 'reinstate', licenceId: crypto.randomUUID(), reason: 'x' })
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { code: string }).code).toBe('invalid_request')
    const both = await act({ action: 'suspend', reason: 'x' })
    expect(both.status).toBe(400)
  })
})
