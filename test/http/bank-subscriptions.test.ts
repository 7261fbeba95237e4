import { compactVerify, decodeProtectedHeader, importX509 } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LICENCE_STATUS_EVENT_TYP } from '../../src/core/holder/status-subscription'
import { createTestApp, type TestApp } from '../support/app'
import { BANK_FIELDS, consentRequest, licensedHolder } from '../support/holders'

/** With the holder's consent a bank subscribes to a licence it checked and is told, signed and retried, when its status changes. */
describe('bank subscriptions to licence status', () => {
  let t: TestApp
  const received: Array<{ id: string | null; body: string }> = []
  let failNext = 0
  const webhook: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    if (new URL(request.url).host !== 'bank.test') throw new TypeError(`fetch failed: no route to ${request.url}`)
    if (failNext > 0) {
      failNext--
      return new Response('busy', { status: 503 })
    }
    received.push({ id: request.headers.get('tongban-message-id'), body: await request.text() })
    return new Response(null, { status: 204 })
  }
  const register = async (branch: string, webhookUrl?: string) =>
    (await (await t.request('POST', '/v1/admin/relying-parties', { json: { name: '招商银行', branch, purposes: ['开户'], mayRequest: { 'business-licence': BANK_FIELDS }, ...(webhookUrl ? { webhookUrl } : {}) } })).json()) as {
      id: string
      credential: string
    }
  async function claimsOf(jws: string) {
    expect(decodeProtectedHeader(jws).typ).toBe(LICENCE_STATUS_EVENT_TYP)
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(t.pki['attestation-signer'].certificate.rawData).toString('base64')}\n-----END CERTIFICATE-----`
    const { payload } = await compactVerify(jws, await importX509(pem, 'ES256'), { algorithms: ['ES256'] })
    return JSON.parse(new TextDecoder().decode(payload))
  }
  /** Delivers what is due, waiting out the short test backoff of a retried message. */
  async function deliver() {
    for (let i = 0; i < 20 && (await t.db.query("SELECT 1 FROM outbox_messages WHERE state <> 'delivered' AND destination LIKE 'bank:%'")).length > 0; i++) {
      await t.outbox.drain()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  beforeAll(async () => {
    t = await createTestApp({ fetch: webhook, outboxBackoff: { baseMs: 1, capMs: 5 } })
  })
  afterAll(() => t.close())

  it('tells the subscribed bank of a suspension and a change, signed, numbered, and retried until taken', async () => {
    const holder = await licensedHolder(t, 601)
    const bank = await register('订阅支行', 'http://bank.test/hook')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id, { statusUpdates: true }) })).json()
    expect(consent.statusUpdates).toBe(true)
    const checked = await (await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code, subscribe: true } })).json()
    expect(checked.subscribed).toEqual([holder.licence.id])

    failNext = 1
    expect((await t.request('POST', `/v1/licences/${holder.licence.id}/suspend`, { json: { reason: '经营异常' } })).status).toBe(200)
    await deliver()
    expect(received).toHaveLength(1)
    const suspended = await claimsOf(received[0]?.body as string)
    expect(suspended).toMatchObject({ aud: bank.id, seq: 1, type: 'licence.suspended', consent: consent.id, licence: { id: holder.licence.id, number: holder.licence.number, status: 'suspended' }, reason: '经营异常' })
    expect(received[0]?.id).toBe(suspended.jti)
    const [row] = await t.db.query<{ attempts: number }>('SELECT attempts FROM outbox_messages WHERE id = $1', [suspended.jti])
    expect(row?.attempts).toBe(2)

    await t.request('POST', `/v1/licences/${holder.licence.id}/reinstate`, { json: {} })
    const changed = await (await t.request('POST', `/v1/licences/${holder.licence.id}/change`, { json: { reason: '变更住所', fields: { ...holder.licence.fields, address: '江西省赣州市章贡区新址2号' } } })).json()
    await deliver()
    const later = await Promise.all(received.slice(1).map((r) => claimsOf(r.body)))
    expect(later.map((c) => [c.seq, c.type])).toEqual([
      [2, 'licence.reinstated'],
      [3, 'licence.changed'],
    ])
    expect(later[1]).toMatchObject({ licence: { id: holder.licence.id, status: 'superseded' }, replacedBy: { id: changed.id, number: changed.number, version: 2 } })

    const audited = await t.db.query<{ detail: { subscribed: string[] } }>("SELECT detail FROM audit_entries WHERE kind = 'bank_check' ORDER BY seq DESC LIMIT 1")
    expect(audited[0]?.detail.subscribed).toEqual([holder.licence.id])
  })

  it('subscribes nobody the holder did not allow, and tells a revoked bank nothing', async () => {
    const holder = await licensedHolder(t, 602)
    const bank = await register('未授权订阅支行', 'http://bank.test/hook')
    const plain = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id) })).json()
    const refused = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: plain.code, subscribe: true } })
    expect(refused.status).toBe(403)
    expect((await refused.json()).code).toBe('subscription_not_consented')
    // Nothing was counted: the consent still allows its one check.
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: plain.code } })).status).toBe(200)

    const noHook = await register('无回调支行')
    const asked = await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(noHook.id, holder.licence.id, { statusUpdates: true }) })
    expect(asked.status).toBe(422)
    expect((await asked.json()).code).toBe('outside_relying_party_scope')

    const allowed = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id, { statusUpdates: true }) })).json()
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: allowed.code, subscribe: true } })).status).toBe(200)
    await t.request('POST', `/v1/admin/relying-parties/${bank.id}/revoke`, {})
    const before = received.length
    await t.request('POST', `/v1/licences/${holder.licence.id}/revoke`, { json: { reason: '吊销' } })
    await deliver()
    expect(received.length).toBe(before)
    expect(await t.db.query("SELECT 1 FROM outbox_messages WHERE destination = $1", [`bank:${bank.id}`])).toEqual([])
  })

  it('tells the bank nothing more once the holder withdraws the consent it subscribed under', async () => {
    const holder = await licensedHolder(t, 603)
    const bank = await register('撤回授权支行', 'http://bank.test/hook')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id, { statusUpdates: true }) })).json()
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code, subscribe: true } })).status).toBe(200)
    expect((await t.request('POST', `/v1/licences/${holder.licence.id}/suspend`, { json: { reason: '核查' } })).status).toBe(200)
    await deliver()
    expect(await t.db.query('SELECT 1 FROM outbox_messages WHERE destination = $1', [`bank:${bank.id}`])).toHaveLength(1)

    expect((await t.request('POST', `/v1/holder/consents/${consent.id}/withdraw`, { token: holder.credential })).status).toBe(200)
    expect((await t.request('POST', `/v1/licences/${holder.licence.id}/reinstate`, { json: { reason: '核查完毕' } })).status).toBe(200)
    await deliver()
    expect(await t.db.query('SELECT 1 FROM outbox_messages WHERE destination = $1', [`bank:${bank.id}`])).toHaveLength(1)
  })
})
