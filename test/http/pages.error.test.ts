import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/**
 * Bad forms on the pages: a body that is not the form it claims to be is a 400 problem, a form
 * with wrong or missing values gets the page back with the problem said in words; never a 500,
 * and nothing stored or counted.
 */
describe('pages answer bad forms with a problem and store nothing', () => {
  let t: TestApp
  let holder: Awaited<ReturnType<typeof licensedHolder>>
  let bank: Awaited<ReturnType<typeof registeredBank>>
  const sameOrigin = { 'sec-fetch-site': 'same-origin' }
  const post = (path: string, body: BodyInit, headers: Record<string, string>) => t.request('POST', path, { token: null, body, headers: { ...sameOrigin, ...headers } })
  const form = (path: string, fields: Record<string, string>, cookie?: string) =>
    post(path, new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) })
  async function signIn(kind: 'holder' | 'bank', credential: string) {
    const answer = await form(`/${kind}/sign-in`, { credential })
    const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0] as string
    const html = await (await t.request('GET', `/${kind}`, { token: null, headers: { cookie } })).text()
    return { cookie, csrf: /name="csrf" value="([0-9a-f]+)"/.exec(html)?.[1] as string }
  }
  async function rows() {
    const [row] = await t.db.query<Record<string, number>>(`SELECT
      (SELECT count(*) FROM consents)::int AS consents,
      (SELECT count(*) FROM consent_check_failures)::int AS failures,
      (SELECT count(*) FROM licence_uses)::int AS uses,
      (SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL)::int AS withdrawn`)
    return row
  }

  beforeAll(async () => {
    t = await createTestApp()
    holder = await licensedHolder(t, 801)
    bank = await registeredBank(t, '表单错误支行')
  })
  afterAll(() => t.close())

  it('answers a body that claims to be a form and is not one with 400 malformed_form, on every page form', async () => {
    const holderSession = await signIn('holder', holder.credential)
    const bankSession = await signIn('bank', bank.credential)
    const before = await rows()
    const broken = [
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nno closing boundary'],
      ['multipart/form-data', 'text=no boundary at all'],
    ]
    for (const [path, cookie] of [
      ['/verify', undefined],
      ['/holder/sign-in', undefined],
      ['/holder/consents', holderSession.cookie],
      ['/holder/sign-out', holderSession.cookie],
      ['/bank/sign-in', undefined],
      ['/bank/check', bankSession.cookie],
    ] as Array<[string, string | undefined]>) {
      for (const [type, body] of broken) {
        const answer = await post(path, body as string, { 'content-type': type as string, ...(cookie ? { cookie } : {}) })
        expect({ path, type, status: answer.status }).toEqual({ path, type, status: 400 })
        expect(answer.headers.get('content-type')).toBe('application/problem+json')
        expect((await answer.json()).code).toBe('malformed_form')
      }
    }
    expect(await rows()).toEqual(before)
  })

  it('shows the teller a problem for an empty code and does not count it as a wrong guess', async () => {
    const session = await signIn('bank', bank.credential)
    const before = await rows()
    for (const code of ['', '   ', '- -', 'tongban-consent:']) {
      const answer = await form('/bank/check', { csrf: session.csrf, code }, session.cookie)
      expect(answer.status).toBe(400)
      const html = await answer.text()
      expect(html).toContain('role="alert"')
      expect(html).toContain('请输入客户的授权码')
    }
    expect(await rows()).toEqual(before)
    const wrong = await form('/bank/check', { csrf: session.csrf, code: 'ABCD-EFGH-JKMN' }, session.cookie)
    expect(wrong.status).toBe(404)
    expect((await rows())?.failures).toBe((before?.failures ?? 0) + 1)
  })

  it('gives the holder the page back with the problem in words for a consent it cannot give, and stores none', async () => {
    const session = await signIn('holder', holder.credential)
    const before = await rows()
    const give = (fields: Record<string, string>) => form('/holder/consents', { csrf: session.csrf, relyingParty: bank.id, licences: holder.licence.id, purpose: '开户', fields: 'address', ...fields }, session.cookie)
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ relyingParty: '' }, 400, '请至少选择一个证照'],
      [{ relyingParty: '\u0000' }, 422, ''],
      [{ purpose: '开户\u0000' }, 422, '该银行无权查看所选内容'],
      [{ fields: 'password' }, 422, '所选证照没有该项内容'],
      [{ licences: '00000000-0000-4000-8000-000000000000' }, 404, ''],
      [{ licences: '' }, 400, '请至少选择一个证照'],
      [{ purpose: '' }, 400, '请至少选择一个证照'],
    ]
    for (const [fields, status, words] of cases) {
      const answer = await give(fields)
      expect({ fields, status: answer.status }).toEqual({ fields, status })
      const html = await answer.text()
      expect(html).toContain('role="alert"')
      if (words) expect(html).toContain(words)
    }
    expect(await rows()).toEqual(before)
    expect(await (await t.request('GET', '/v1/holder/consents', { token: holder.credential })).json()).toEqual({ consents: [] })
  })

  it('answers a withdrawal of a consent that is not the holder’s with 404 and withdraws nothing', async () => {
    const other = await licensedHolder(t, 802)
    const theirs = await (await t.request('POST', '/v1/holder/consents', { token: other.credential, json: consentRequest(bank.id, other.licence.id) })).json()
    const session = await signIn('holder', holder.credential)
    for (const id of [theirs.id, 'not-a-uuid', '%00']) {
      const answer = await form(`/holder/consents/${id}/withdraw`, { csrf: session.csrf }, session.cookie)
      expect(answer.status).toBe(404)
      expect((await answer.json()).code).toBe('consent_not_found')
    }
    expect((await (await t.request('GET', '/v1/holder/consents', { token: other.credential })).json()).consents[0].state).toBe('active')
  })
})
