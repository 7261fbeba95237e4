import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/** The pages speak Chinese first, in every check they report, switch to English on request, and show the holder how each check came out. */
describe('pages in Chinese and English', () => {
  let t: TestApp
  let holder: Awaited<ReturnType<typeof licensedHolder>>
  const sameOrigin = { 'sec-fetch-site': 'same-origin' }
  const verifyText = (text: string, cookie?: string) =>
    t.request('POST', '/verify', { token: null, body: new URLSearchParams({ text }).toString(), headers: { ...sameOrigin, 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) } })
  /** Each reported check: its name and the question as the page words it. */
  const checkQuestions = (html: string) =>
    [...html.matchAll(/<li data-check="([^"]+)"[^>]*><span[^>]*>[^<]*<\/span> ([^<]*)<br\/>/g)].map((m) => ({ name: m[1] as string, question: m[2] as string }))
  const han = /[\u4e00-\u9fff]/

  beforeAll(async () => {
    t = await createTestApp()
    holder = await licensedHolder(t, 1001, '赣州语言测试有限公司')
  })
  afterAll(() => t.close())

  it('words every check of a credential and of a PDF in Chinese by default', async () => {
    const credential = await (await verifyText(holder.licence.credential)).text()
    expect(credential).toContain('<html lang="zh-CN"')
    expect(credential).toContain('aria-label="核验结果"')
    const pdf = new Uint8Array(await (await t.request('GET', `/v1/holder/licences/${holder.licence.id}/pdf`, { token: holder.credential })).arrayBuffer())
    const form = new FormData()
    form.append('pdf', new Blob([pdf], { type: 'application/pdf' }), 'licence.pdf')
    const uploaded = await (await t.request('POST', '/verify', { token: null, body: form, headers: sameOrigin })).text()
    expect(uploaded).toContain('data-indication="TOTAL_PASSED"')

    const questions = [...checkQuestions(credential), ...checkQuestions(uploaded)]
    expect(new Set(questions.map((q) => q.name)).size).toBeGreaterThanOrEqual(30)
    expect(questions.filter((q) => !han.test(q.question))).toEqual([])
  })

  it('switches to English on request, remembers it, and words the checks as the report does', async () => {
    const switched = await t.request('GET', '/verify?lang=en', { token: null })
    const cookie = (switched.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect(cookie).toBe('tb_lang=en')
    const html = await (await verifyText(holder.licence.credential, cookie)).text()
    expect(html).toContain('<html lang="en"')
    expect(html).toContain('aria-label="Result"')
    expect(html).toContain('>Valid<')
    expect(checkQuestions(html).find((q) => q.name === 'signature')?.question).toBe('Does the signature verify with the signer&#39;s public key?')
    expect(await (await t.request('GET', '/holder', { token: null, headers: { cookie } })).text()).toContain('Enter the holder credential')
    expect(await (await t.request('GET', '/bank?lang=zh', { token: null, headers: { cookie } })).text()).toContain('网点登录')
  })

  it('shows the holder each check of a licence with its result', async () => {
    const bank = await registeredBank(t, '语言测试支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id) })).json()
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })).status).toBe(200)
    const signIn = await t.request('POST', '/holder/sign-in', { token: null, body: new URLSearchParams({ credential: holder.credential }).toString(), headers: { ...sameOrigin, 'content-type': 'application/x-www-form-urlencoded' } })
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string
    const html = await (await t.request('GET', '/holder', { token: null, headers: { cookie } })).text()
    const row = /<tr data-use="\d+" data-indication="([A-Z_]+)">(.*?)<\/tr>/.exec(html)
    expect(row?.[1]).toBe('TOTAL_PASSED')
    expect(row?.[2]).toContain('中国工商银行 语言测试支行')
    expect(row?.[2]).toContain('<td data-label="结果">有效</td>')
  })
  it('names licence types and fields in the page’s language: the certificate’s Chinese, or the contract’s English', async () => {
    const bank = await registeredBank(t, '双语测试支行')
    await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id) })
    const signIn = await t.request('POST', '/holder/sign-in', { token: null, body: new URLSearchParams({ credential: holder.credential }).toString(), headers: { ...sameOrigin, 'content-type': 'application/x-www-form-urlencoded' } })
    const session = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string
    const page = async (lang: 'zh' | 'en') => (await t.request('GET', `/holder?lang=${lang}`, { token: null, headers: { cookie: session } })).text()
    const chinese = await page('zh')
    expect(chinese).toContain('营业执照')
    expect(chinese).toMatch(/<input type="checkbox" name="fields" value="legalRepresentative"[^>]*\/>\s*法定代表人/)
    const english = await page('en')
    expect(english).toContain('Business licence')
    expect(english).not.toContain('营业执照')
    expect(english).toMatch(/<input type="checkbox" name="fields" value="legalRepresentative"[^>]*\/>\s*Legal representative/)
    expect(english).not.toContain('法定代表人')

    // The verify page's fields, in English, carry the contract's English labels.
    const verified = await (await verifyText(holder.licence.credential, 'tb_lang=en')).text()
    const fields = /<dl data-testid="licence-fields">(.*?)<\/dl>/s.exec(verified)?.[1] ?? ''
    expect(fields).toContain('<dt>Legal representative</dt>')
    expect(fields).toContain('<dt>Business scope</dt>')
    expect(fields.match(/<dt>([^<]*)<\/dt>/g)?.filter((dt) => han.test(dt))).toEqual([])
  })
})
