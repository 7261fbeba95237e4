import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { attachment, uploadAttachments } from '../support/applications'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/**
 * Bad input on the holder, bank and holder-admin endpoints gets a 4xx problem with a stable code,
 * never a 500, and leaves nothing behind: no consent, credential, bank, failure count or use.
 */
describe('holder and bank endpoints answer bad input with a problem and store nothing', () => {
  let t: TestApp
  let holder: Awaited<ReturnType<typeof licensedHolder>>
  let bank: Awaited<ReturnType<typeof registeredBank>>

  async function problem(response: Response | Promise<Response>, status: number, code: string) {
    const answer = await response
    const text = await answer.text()
    expect({ status: answer.status, body: text }).toMatchObject({ status })
    expect(answer.headers.get('content-type')).toBe('application/problem+json')
    expect(JSON.parse(text)).toMatchObject({ status, code, type: `https://tongban.dev/problems/${code}` })
    return JSON.parse(text) as { errors?: Array<{ pointer?: string }> }
  }
  /** Rows every endpoint here could write. */
  async function rows() {
    const [row] = await t.db.query<Record<string, number>>(`SELECT
      (SELECT count(*) FROM consents)::int AS consents,
      (SELECT count(*) FROM holder_credentials)::int AS credentials,
      (SELECT count(*) FROM relying_parties)::int AS banks,
      (SELECT count(*) FROM consent_check_failures)::int AS failures,
      (SELECT count(*) FROM licence_uses)::int AS uses,
      (SELECT count(*) FROM licence_subscriptions)::int AS subscriptions`)
    return row
  }
  const asHolder = (method: string, path: string, init: { json?: unknown; body?: string; headers?: Record<string, string> } = {}) =>
    t.request(method, path, { token: holder.credential, ...init })
  const asBank = (method: string, path: string, init: { json?: unknown; body?: string; headers?: Record<string, string> } = {}) =>
    t.request(method, path, { token: bank.credential, ...init })

  beforeAll(async () => {
    t = await createTestApp()
    holder = await licensedHolder(t, 701)
    bank = await registeredBank(t, '错误输入测试支行')
  })
  afterAll(() => t.close())

  it('refuses malformed consents, each with its code, and stores none', async () => {
    const before = await rows()
    const consent = (overrides: Record<string, unknown>) => asHolder('POST', '/v1/holder/consents', { json: consentRequest(bank.id, holder.licence.id, overrides) })
    await problem(consent({ fields: 'legalRepresentative' }), 400, 'invalid_request')
    await problem(consent({ licences: [] }), 400, 'invalid_request')
    await problem(consent({ licences: Array.from({ length: 11 }, () => holder.licence.id) }), 400, 'invalid_request')
    await problem(consent({ expiresInMinutes: 1.5 }), 400, 'invalid_request')
    await problem(consent({ expiresInMinutes: '30' }), 400, 'invalid_request')
    await problem(consent({ maxUses: 101 }), 400, 'invalid_request')
    await problem(consent({ statusUpdates: 'yes' }), 400, 'invalid_request')
    await problem(consent({ purpose: '   ' }), 400, 'invalid_request')
    await problem(asHolder('POST', '/v1/holder/consents', { json: [] }), 400, 'invalid_request')
    await problem(asHolder('POST', '/v1/holder/consents', { json: null }), 400, 'invalid_request')
    await problem(asHolder('POST', '/v1/holder/consents', { body: '{"relyingParty":', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    await problem(asHolder('POST', '/v1/holder/consents', { body: '{}', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type')
    const nul = await problem(consent({ purpose: '开\u0000户' }), 422, 'invalid_characters')
    expect(nul.errors?.map((e) => e.pointer)).toEqual(['/purpose'])
    await problem(consent({ fields: ['\ud800'] }), 422, 'invalid_characters')
    await problem(consent({ relyingParty: '__proto__' }), 422, 'unknown_relying_party')
    await problem(consent({ fields: ['__proto__', 'constructor'] }), 422, 'invalid_consent_request')
    await problem(consent({ licences: ['00000000-0000-4000-8000-000000000000'] }), 404, 'licence_not_found')
    expect(await rows()).toEqual(before)
  })

  it('answers bad ids and queries of the holder API with problems', async () => {
    await problem(asHolder('GET', '/v1/holder/uses?limit=abc'), 400, 'invalid_request')
    await problem(asHolder('GET', '/v1/holder/uses?limit=0'), 400, 'invalid_request')
    await problem(asHolder('GET', '/v1/holder/uses?limit=1001'), 400, 'invalid_request')
    await problem(asHolder('GET', '/v1/holder/licences/%00/pdf'), 404, 'licence_not_found')
    await problem(asHolder('GET', '/v1/holder/licences/%ZZ/credential'), 404, 'licence_not_found')
    await problem(asHolder('POST', '/v1/holder/consents/%00/withdraw'), 404, 'consent_not_found')
    await problem(asHolder('POST', '/v1/holder/consents/00000000-0000-4000-8000-000000000000/withdraw'), 404, 'consent_not_found')
    await problem(t.request('GET', '/v1/holder/licences', { token: `tbh_${'x'.repeat(5000)}` }), 401, 'unauthorized')
    await problem(t.request('GET', '/v1/holder/licences', { token: null, headers: { authorization: `Basic ${btoa('holder:secret')}` } }), 401, 'unauthorized')
  })

  it('refuses malformed bank checks before looking anything up, and counts none of them as a guess', async () => {
    const before = await rows()
    await problem(asBank('POST', '/v1/bank/checks', { json: { code: 12345678 } }), 400, 'invalid_request')
    await problem(asBank('POST', '/v1/bank/checks', { json: { code: '' } }), 400, 'invalid_request')
    await problem(asBank('POST', '/v1/bank/checks', { json: { code: 'ABCD', subscribe: 'yes' } }), 400, 'invalid_request')
    await problem(asBank('POST', '/v1/bank/checks', { json: { code: 'ABCD', fields: ['address'] } }), 400, 'invalid_request')
    await problem(asBank('POST', '/v1/bank/checks', { body: '', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    await problem(asBank('POST', '/v1/bank/checks', { json: { code: 'AB\u0000CD' } }), 422, 'invalid_characters')
    await problem(asBank('POST', '/v1/bank/checks', { body: 'code=ABCD', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type')
    expect(await rows()).toEqual(before)
  })

  it('refuses malformed bank registrations and holder credentials, and stores none', async () => {
    const before = await rows()
    const register = (body: Record<string, unknown>) => t.request('POST', '/v1/admin/relying-parties', { json: { name: '某银行', branch: '某支行', purposes: ['开户'], mayRequest: { 'business-licence': ['address'] }, ...body } })
    await problem(register({ name: '' }), 400, 'invalid_request')
    await problem(register({ purposes: [] }), 400, 'invalid_request')
    await problem(register({ mayRequest: {} }), 400, 'invalid_request')
    await problem(register({ webhookUrl: 'ftp://bank.example/hook' }), 400, 'invalid_request')
    await problem(register({ webhookUrl: 'not a url' }), 400, 'invalid_request')
    await problem(register({ name: '某\u0000银行' }), 422, 'invalid_characters')
    await problem(register({ purposes: ['\udc00'] }), 422, 'invalid_characters')
    await problem(register({ mayRequest: { constructor: ['address'] } }), 422, 'invalid_relying_party')
    await problem(register({ mayRequest: { 'business-licence': ['address', 'password'] } }), 422, 'invalid_relying_party')
    await problem(
      t.request('POST', '/v1/admin/relying-parties', { body: '{"name":"a","branch":"b","purposes":["开户"],"mayRequest":{"__proto__":["address"]}}', headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_request',
    )
    await problem(t.request('POST', '/v1/admin/relying-parties/not-a-uuid/revoke', {}), 404, 'relying_party_not_found')

    const issue = (body: unknown) => t.request('POST', '/v1/admin/holder-credentials', { json: body })
    await problem(issue({ holder: { kind: 'robot', name: 'x' } }), 400, 'invalid_request')
    await problem(issue({ holder: holder.holder, label: '' }), 400, 'invalid_request')
    await problem(issue({ holder: { ...holder.holder, name: '某\u0000公司' } }), 422, 'invalid_characters')
    await problem(issue({ holder: { kind: 'person', idNumber: '123', name: '王五' } }), 422, 'invalid_id_number')
    await problem(issue({ holder: { ...holder.holder, uscc: '91360702MA00000017' } }), 422, 'invalid_uscc')
    expect(await rows()).toEqual(before)
  })

  it('answers a holder-credential search by a code that cannot be one with a problem, never a 500', async () => {
    const search = (query: string) => t.request('GET', `/v1/admin/holder-credentials?${query}`, {})
    await problem(search(''), 400, 'invalid_request')
    await problem(search(`uscc=${holder.holder.uscc}&idNumber=11010519491231002X`), 400, 'invalid_request')
    await problem(search('uscc=%00'), 422, 'invalid_uscc')
    const wrong = await problem(search('uscc=91360702MA00000017'), 422, 'invalid_uscc')
    expect(wrong.errors?.map((e) => e.pointer)).toEqual(['/uscc'])
    await problem(search('idNumber=%ED%A0%80'), 422, 'invalid_id_number')
    await problem(search('idNumber=110105194912310021'), 422, 'invalid_id_number')
    const found = await t.request('GET', `/v1/admin/holder-credentials?uscc=${holder.holder.uscc}`, {})
    expect(found.status).toBe(200)
    expect((await found.json()).credentials).toHaveLength(1)
  })

  it('refuses malformed bank applications and stores none', async () => {
    const opener = await (await t.request('POST', '/v1/admin/relying-parties', { json: { name: '中国建设银行', branch: '开办错误支行', purposes: ['企业开办'], mayRequest: { 'business-licence': ['address'] } } })).json()
    const count = async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM applications'))[0]?.n
    const before = await count()
    const apply = (json: unknown, headers: Record<string, string> = {}) => t.request('POST', '/v1/bank/applications', { token: opener.credential, json, headers })
    await problem(apply({}), 400, 'invalid_request')
    await problem(apply({ applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' }, form: {}, attachments: [], handlingRegion: '440307' }), 400, 'invalid_request')
    await problem(t.request('POST', '/v1/bank/applications', { token: opener.credential, body: '[', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    const valid = {
      applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
      form: { enterpriseName: '赣州错误输入有限公司', entityType: '有限责任公司', legalRepresentative: '王五', registeredCapital: '壹佰万元整', address: '江西省赣州市章贡区红旗大道8号', businessScope: '软件开发' },
      attachments: ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key)),
    }
    await uploadAttachments(t, valid.attachments)
    await problem(apply(valid, { 'idempotency-key': 'two words' }), 400, 'invalid_request')
    await problem(apply({ ...valid, form: { ...valid.form, enterpriseName: '赣州\u0000公司' } }), 422, 'invalid_characters')
    await problem(t.request('GET', '/v1/bank/applications/%00', { token: opener.credential }), 404, 'application_not_found')
    expect(await count()).toBe(before)
  })
})
