import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PAGE_CSP } from '../../src/http/pages/page-security'
import { createTestApp, type TestApp } from '../support/app'
import { BANK_FAILURE_LIMIT } from '../../src/core/holder/bank-check'
import { newConsentCode } from '../../src/core/holder/consent-code'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/** The pages against cross-site forms, script injection and each other's sessions. */
describe('pages refuse forged forms and injected script', () => {
  let t: TestApp
  const page = (method: string, path: string, init: { form?: Record<string, string>; cookie?: string; headers?: Record<string, string> } = {}) =>
    t.request(method, path, {
      token: null,
      headers: { ...(init.cookie ? { cookie: init.cookie } : {}), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    })
  /** Signs in through the page as a browser would, and returns the session cookie and the page's form token. */
  async function signIn(kind: 'holder' | 'bank', credential: string) {
    const answer = await page('POST', `/${kind}/sign-in`, { form: { credential }, headers: { 'sec-fetch-site': 'same-origin' } })
    expect(answer.status).toBe(303)
    const setCookie = answer.headers.get('set-cookie') ?? ''
    const cookie = setCookie.split(';')[0] as string
    const html = await (await page('GET', `/${kind}`, { cookie })).text()
    return { setCookie, cookie, csrf: /name="csrf" value="([0-9a-f]+)"/.exec(html)?.[1] as string, html }
  }

  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('sends a strict CSP, no-store and the secure headers, and runs no inline script', async () => {
    for (const path of ['/verify', '/holder', '/bank', '/verify?lang=en']) {
      const answer = await page('GET', path)
      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-security-policy')).toBe(PAGE_CSP)
      expect(PAGE_CSP).toContain("script-src 'self'")
      expect(PAGE_CSP).toContain("frame-ancestors 'none'")
      expect(answer.headers.get('cache-control')).toBe('no-store')
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
      const html = await answer.text()
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
      expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i)
    }
  })

  it('keeps the session cookie HttpOnly, SameSite=Strict and to its own page', async () => {
    const holder = await licensedHolder(t, 401)
    const { setCookie } = await signIn('holder', holder.credential)
    expect(setCookie).toMatch(/^tb_holder=tbh_/)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    expect(setCookie).toContain('Path=/holder')
    const wrong = await page('POST', '/holder/sign-in', { form: { credential: 'tbh_guess' } })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie') ?? '').not.toContain('tb_holder')
  })

  it('refuses forms from other sites, and signed-in forms without their token, and changes nothing', async () => {
    const holder = await licensedHolder(t, 402)
    const bank = await registeredBank(t, 'CSRF测试支行')
    const { cookie, csrf } = await signIn('holder', holder.credential)
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id) })).json()
    const withdraw = (headers: Record<string, string>, form: Record<string, string>) => page('POST', `/holder/consents/${consent.id}/withdraw`, { cookie, headers, form })

    for (const [headers, form] of [
      [{ 'sec-fetch-site': 'cross-site' }, { csrf }],
      [{ 'sec-fetch-site': 'same-site' }, { csrf }],
      [{ origin: 'https://evil.example' }, { csrf }],
      [{ 'sec-fetch-site': 'same-origin' }, {}],
      [{ 'sec-fetch-site': 'same-origin' }, { csrf: 'f'.repeat(32) }],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const refused = await withdraw(headers, form)
      expect(refused.status).toBe(403)
      expect((await refused.json()).code).toBe('forbidden')
    }
    const forged = await page('POST', '/holder/consents', { cookie, headers: { 'sec-fetch-site': 'cross-site' }, form: { csrf, relyingParty: bank.id, licences: holder.licence.id, purpose: '开户', expiresInMinutes: '30' } })
    expect(forged.status).toBe(403)
    expect((await page('POST', '/bank/sign-in', { form: { credential: bank.credential }, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    const listed = await (await t.request('GET', '/v1/holder/consents', { token: holder.credential })).json()
    expect(listed.consents.map((c: { state: string }) => c.state)).toEqual(['active'])

    const allowed = await withdraw({ 'sec-fetch-site': 'same-origin' }, { csrf })
    expect(allowed.status).toBe(303)
    expect((await (await t.request('GET', '/v1/holder/consents', { token: holder.credential })).json()).consents[0].state).toBe('withdrawn')
  })

  it('escapes what holders, banks and visitors put in, on every page that shows it', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    const holder = await licensedHolder(t, 403, `恶意${evil}有限公司`)
    const bank = await registeredBank(t, `支行${evil}`)
    const { html } = await signIn('holder', holder.credential)
    expect(html).not.toContain('<script>alert')
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')

    const consent = await (await t.request('POST', '/v1/holder/consents', { token: holder.credential, json: consentRequest(bank.id, holder.licence.id) })).json()
    const teller = await signIn('bank', bank.credential)
    expect(teller.html).not.toContain('<script>alert')
    const checked = await (await page('POST', '/bank/check', { cookie: teller.cookie, headers: { 'sec-fetch-site': 'same-origin' }, form: { csrf: teller.csrf, code: consent.code } })).text()
    expect(checked).toContain('data-indication="TOTAL_PASSED"')
    expect(checked).not.toContain('<script>alert')
    expect(checked).not.toContain('<img src=x')

    const pasted = await (await page('POST', '/verify', { form: { text: `</textarea>${evil}` } })).text()
    expect(pasted).not.toContain('<script>alert')
    expect(pasted).toContain('&lt;/textarea&gt;')
  })

  it('escapes a hostile token’s own words (kid, issuer, holder) where the report echoes them on /verify', async () => {
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const token = `${part({ alg: 'ES256', typ: 'vc+jwt', kid: evil })}.${part({ iss: evil, credentialSubject: { holder: { name: evil } } })}.${Buffer.from('not a signature').toString('base64url')}`
    for (const lang of ['zh', 'en']) {
      const answer = await page('POST', `/verify?lang=${lang}`, { form: { text: token }, headers: { 'sec-fetch-site': 'same-origin' } })
      const html = await answer.text()
      expect(html).toContain('data-check="signer-known" data-result="failed"')
      // The kid is echoed in the check's detail, as text.
      expect(/<li data-check="signer-known".*?<\/li>/.exec(html)?.[0]).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;')
      expect(html).not.toContain('<script>alert')
      expect(html).not.toContain('<img src=x')
      expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i)
    }
  })

  it('creates through the page form exactly the consent the holder chose, status updates included', async () => {
    const holder = await licensedHolder(t, 406)
    const bank = await (await t.request('POST', '/v1/admin/relying-parties', { json: { name: '农业银行', branch: '表单支行', purposes: ['开户'], mayRequest: { 'business-licence': ['address', 'legalRepresentative'] }, webhookUrl: 'https://bank.example/hook' } })).json()
    const { cookie, csrf, html } = await signIn('holder', holder.credential)
    expect(html).toContain('name="statusUpdates"')
    const body = new URLSearchParams([['csrf', csrf], ['relyingParty', bank.id], ['licences', holder.licence.id], ['purpose', '开户'], ['fields', 'address'], ['expiresInMinutes', '120'], ['maxUses', '3'], ['statusUpdates', 'yes']])
    const created = await t.request('POST', '/holder/consents', { token: null, body: body.toString(), headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' } })
    // Post/redirect/get: the code is shown by the page the browser is sent to, once; a reload neither posts again nor shows it.
    expect(created.status).toBe(303)
    expect(created.headers.get('location')).toBe('/holder')
    const once = (created.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect(created.headers.get('set-cookie')).toMatch(/HttpOnly/i)
    const shown = await page('GET', '/holder', { cookie: `${cookie}; ${once}` })
    expect(shown.status).toBe(200)
    expect(shown.headers.get('set-cookie')).toMatch(/tb_once=;/)
    expect(await shown.text()).toMatch(/data-testid="consent-code"[^>]*>[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}</)
    expect(await (await page('GET', '/holder', { cookie })).text()).not.toContain('data-testid="consent-code"')
    const [consent] = (await (await t.request('GET', '/v1/holder/consents', { token: holder.credential })).json()).consents
    expect(consent).toMatchObject({ relyingParty: { id: bank.id }, licences: [holder.licence.id], fields: ['address'], maxUses: 3, statusUpdates: true, state: 'active' })
    expect(new Date(consent.expiresAt).getTime() - new Date(consent.createdAt).getTime()).toBe(120 * 60_000)
  })

  it('shows a holder only their own licences, and another bank’s code as not found on the teller page', async () => {
    const alice = await licensedHolder(t, 404, '甲有限公司')
    const bob = await licensedHolder(t, 405, '乙有限公司')
    const mine = await registeredBank(t, '甲方支行')
    const other = await registeredBank(t, '乙方支行')
    const { html } = await signIn('holder', bob.credential)
    expect(html).toContain(bob.licence.number)
    expect(html).not.toContain(alice.licence.number)
    const session = await signIn('holder', bob.credential)
    const foreign = await page('GET', `/holder/licences/${alice.licence.id}/pdf`, { cookie: session.cookie })
    expect(foreign.status).toBe(404)

    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(mine.id, alice.licence.id) })).json()
    const teller = await signIn('bank', other.credential)
    const refused = await page('POST', '/bank/check', { cookie: teller.cookie, headers: { 'sec-fetch-site': 'same-origin' }, form: { csrf: teller.csrf, code: consent.code } })
    expect(refused.status).toBe(404)
    const text = await refused.text()
    expect(text).toContain('没有找到给本网点的这个授权码')
    expect(text).not.toContain('甲有限公司')
    expect(text).not.toContain(alice.licence.number)
  })
  it('holds a branch guessing codes at the counter back as the API does, and says when it may try again', async () => {
    const alice = await licensedHolder(t, 408, '丙有限公司')
    const bank = await registeredBank(t, '猜码支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id) })).json()
    const teller = await signIn('bank', bank.credential)
    const submit = (code: string) => page('POST', '/bank/check', { cookie: teller.cookie, headers: { 'sec-fetch-site': 'same-origin' }, form: { csrf: teller.csrf, code } })
    for (let i = 0; i < BANK_FAILURE_LIMIT; i++) expect((await submit(newConsentCode())).status).toBe(404)
    const limited = await submit(consent.code)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60)
    const text = await limited.text()
    expect(text).toContain('错误次数过多，请稍后再试。')
    expect(text).not.toContain(alice.licence.number)
  })
})
