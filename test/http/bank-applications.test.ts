import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { attachment, testPdf, uploadAttachments } from '../support/applications'
import { testUscc } from '../support/fixtures'
import { BANK_FIELDS, consentRequest } from '../support/holders'

const opening = () => ({
  applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
  form: { enterpriseName: '赣州一次办科技有限公司', entityType: '有限责任公司', legalRepresentative: '王五', registeredCapital: '壹佰万元整', address: '江西省赣州市章贡区红旗大道8号', businessScope: '软件开发' },
  attachments: ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key)),
})

/** 企业开办 and 银行开户 in one visit: the bank branch accepts the application, the bureau approves, the new enterprise consents, the teller checks. */
describe('a bank branch as an accepting point of enterprise opening', () => {
  let t: TestApp
  const register = async (branch: string, purposes: string[]) =>
    (await (await t.request('POST', '/v1/admin/relying-parties', { json: { name: '中国建设银行', branch, purposes, mayRequest: { 'business-licence': BANK_FIELDS } } })).json()) as { id: string; credential: string }

  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('registers the application, follows it to the licence, and opens the account with the new enterprise’s consent', async () => {
    const bank = await register('赣州红旗支行', ['开户', '企业开办'])
    // The documents are scanned in at the bank's counter and held by the bureau, as at its own window.
    await uploadAttachments(t, opening().attachments, { path: '/v1/bank/attachments', token: bank.credential })
    const created = await t.request('POST', '/v1/bank/applications', { token: bank.credential, json: opening(), headers: { 'idempotency-key': 'counter-1' } })
    expect(created.status).toBe(201)
    const application = await created.json()
    expect(application).toMatchObject({ matter: { code: 'enterprise-establishment' }, status: 'received', acceptingRegion: { code: '360700' }, handlingRegion: { code: '360700' } })
    expect(application.timeline[0].actor).toBe(`bank:${bank.id} 中国建设银行赣州红旗支行`)
    const retried = await t.request('POST', '/v1/bank/applications', { token: bank.credential, json: opening(), headers: { 'idempotency-key': 'counter-1' } })
    expect(retried.status).toBe(200)
    expect((await retried.json()).id).toBe(application.id)

    // The bureau handles it as any other application.
    for (const action of ['accept', 'review']) expect((await t.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action } })).status).toBe(200)
    const enterprise = { kind: 'enterprise', uscc: testUscc(501), name: '赣州一次办科技有限公司' }
    const approved = await t.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action: 'approve', licence: { holder: enterprise, fields: { establishedOn: '2026-12-04' }, validUntil: '2056-12-03' } } })
    expect(approved.status).toBe(200)

    const followed = await (await t.request('GET', `/v1/bank/applications/${application.id}`, { token: bank.credential })).json()
    expect(followed.status).toBe('approved')
    expect(followed.licence.id).toMatch(/^[0-9a-f-]{36}$/)

    const { credential } = await (await t.request('POST', '/v1/admin/holder-credentials', { json: { holder: enterprise } })).json()
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: credential, json: consentRequest(bank.id, followed.licence.id) })).json()
    const checked = await (await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })).json()
    expect(checked.reports[0]).toMatchObject({ indication: 'TOTAL_PASSED', licence: { holder: { uscc: testUscc(501) }, fields: { legalRepresentative: '王五', registeredCapital: '壹佰万元整' } } })
  })

  it('refuses banks not registered for it, other branches, and bad applications, storing nothing', async () => {
    const count = async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM applications'))[0]?.n
    const accounts = await register('只开户支行', ['开户'])
    const mine = await register('受理支行', ['企业开办'])
    const other = await register('他行支行', ['企业开办'])
    const before = await count()
    const refused = await t.request('POST', '/v1/bank/applications', { token: accounts.credential, json: opening() })
    expect(refused.status).toBe(403)
    const document = attachment('articles-of-association', '只开户支行的章程')
    const upload = await t.request('POST', '/v1/bank/attachments', { token: accounts.credential, body: testPdf('只开户支行的章程') as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/pdf' } })
    expect(upload.status).toBe(403)
    expect(await t.db.query('SELECT 1 FROM attachments WHERE sha256 = $1', [document.sha256])).toEqual([])
    expect((await refused.json()).code).toBe('forbidden')
    const bad = await t.request('POST', '/v1/bank/applications', { token: mine.credential, json: { ...opening(), form: { enterpriseName: '缺字段公司' } } })
    expect(bad.status).toBe(422)
    expect((await t.request('POST', '/v1/bank/applications', { token: mine.credential, json: { ...opening(), matter: 'food-business' } })).status).toBe(400)
    expect((await t.request('POST', '/v1/bank/applications', { token: null, json: opening() })).status).toBe(401)
    expect(await count()).toBe(before)

    const application = await (await t.request('POST', '/v1/bank/applications', { token: mine.credential, json: opening() })).json()
    const peeked = await t.request('GET', `/v1/bank/applications/${application.id}`, { token: other.credential })
    expect(peeked.status).toBe(404)
    expect((await peeked.json()).code).toBe('application_not_found')
    const window = await (await t.request('POST', '/v1/applications', { json: { matter: 'enterprise-establishment', ...opening() } })).json()
    expect((await t.request('GET', `/v1/bank/applications/${window.id}`, { token: mine.credential })).status).toBe(404)
  })
})
