import jsQR from 'jsqr'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedLicenceQr } from '../../src/adapters/pdf/embedded-licence'
import { createTestApp, type TestApp } from '../support/app'
import { hasChromium, launchChromium, listen, screenshotPath } from '../support/browser'
import { licensedHolder, registeredBank } from '../support/holders'

/**
 * The pages in a real browser (Debian's chromium through playwright-core), phone-sized: a holder
 * gives a consent, a teller checks it, the holder sees the use; the verify page tells a valid
 * licence from a tampered one. Each step leaves a screenshot in test-results/screenshots/.
 */
describe.skipIf(!hasChromium)('pages in a browser', () => {
  let t: TestApp
  let server: { base: string; close(): Promise<void> }
  let browser: Browser
  let holder: Awaited<ReturnType<typeof licensedHolder>>
  let bank: Awaited<ReturnType<typeof registeredBank>>
  const cspViolations: string[] = []

  async function phone(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, locale: 'zh-CN' })
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
    return { context, page }
  }
  /** Nothing sticks out of a 360 px screen: the elements that do are named, to say what to fix. */
  const overflowing = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`),
    )

  beforeAll(async () => {
    t = await createTestApp()
    server = await listen(t)
    browser = await launchChromium()
    holder = await licensedHolder(t, 301, '赣州页面测试有限公司')
    bank = await registeredBank(t, '赣州章贡支行')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.close()
  })

  it('holder consents, teller checks, holder sees the use', async () => {
    const { context: holderContext, page: holderPage } = await phone()
    await holderPage.goto(`${server.base}/holder`)
    await holderPage.getByLabel('持证人凭证').fill(holder.credential)
    await holderPage.getByRole('button', { name: '登录' }).click()
    await expect.poll(() => holderPage.getByRole('heading', { name: '我的证照', level: 2 }).isVisible()).toBe(true)
    expect(await holderPage.getByText('赣州页面测试有限公司').isVisible()).toBe(true)
    expect(await overflowing(holderPage)).toEqual([])

    await holderPage.getByLabel('银行网点').selectOption({ label: '中国工商银行 赣州章贡支行' })
    await holderPage.getByLabel('法定代表人').check()
    await holderPage.getByLabel('注册资本').check()
    await holderPage.getByRole('button', { name: '生成授权码' }).click()
    const codeText = (await holderPage.getByTestId('consent-code').textContent()) ?? ''
    expect(codeText).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/)
    expect(await overflowing(holderPage)).toEqual([])
    await holderPage.screenshot({ path: screenshotPath('holder-consent.png'), fullPage: true })

    // The QR code on the phone, read back from the rendered page as a counter scanner would.
    const qr = PNG.sync.read(await holderPage.locator('.qr img').screenshot())
    expect(jsQR(new Uint8ClampedArray(qr.data), qr.width, qr.height)?.data).toBe(`tongban-consent:${codeText}`)
    // The page that shows the code was reached by a redirect: reloading it gives no second consent and no longer shows the code.
    const consentsShown = await holderPage.locator('tr[data-consent]').count()
    await holderPage.reload()
    await expect.poll(() => holderPage.getByRole('heading', { name: '我的证照', level: 2 }).isVisible()).toBe(true)
    expect(await holderPage.getByTestId('consent-code').count()).toBe(0)
    expect(await holderPage.locator('tr[data-consent]').count()).toBe(consentsShown)

    const { context: tellerContext, page: teller } = await phone()
    await teller.goto(`${server.base}/bank`)
    await teller.getByLabel('网点凭证').fill(bank.credential)
    await teller.getByRole('button', { name: '登录' }).click()
    await teller.getByLabel('客户授权码').fill(codeText.toLowerCase().replaceAll('-', ' '))
    await teller.getByRole('button', { name: '核验' }).click()
    const verdict = teller.locator('#check-result .verdict')
    expect(await verdict.getAttribute('data-indication')).toBe('TOTAL_PASSED')
    expect((await verdict.textContent())?.trim()).toBe('有效')
    const disclosed = (await teller.getByTestId('licence-fields').textContent()) ?? ''
    expect(disclosed).toContain('法定代表人')
    expect(disclosed).toContain('张三')
    expect(disclosed).toContain('伍佰万元整')
    expect(await teller.locator('#check-result').textContent()).not.toContain('长征大道')
    expect(await teller.locator('#check-result').textContent()).toContain('赣州市行政审批局')
    const seal = teller.getByRole('img', { name: '赣州市行政审批局行政审批专用章' })
    await expect.poll(() => seal.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)).toBe(true)
    expect(await overflowing(teller)).toEqual([])
    await teller.screenshot({ path: screenshotPath('bank-check.png'), fullPage: true })

    // A second check of the single-use code is refused in words.
    await teller.getByLabel('客户授权码').fill(codeText)
    await teller.getByRole('button', { name: '核验' }).click()
    expect(await teller.getByRole('alert').textContent()).toContain('使用次数已用完')

    await holderPage.goto(`${server.base}/holder`)
    const use = holderPage.locator('tr[data-use]').first()
    expect(await use.textContent()).toContain('中国工商银行 赣州章贡支行')
    expect(await use.textContent()).toContain('开户')
    expect(await use.getAttribute('data-indication')).toBe('TOTAL_PASSED')
    expect(await use.locator('td[data-label="结果"]').textContent()).toBe('有效')
    expect(await overflowing(holderPage)).toEqual([])
    expect(await holderPage.locator('tr[data-consent]').first().getAttribute('data-state')).toBe('used_up')
    await holderPage.screenshot({ path: screenshotPath('holder-uses.png'), fullPage: true })

    await holderPage.getByRole('link', { name: 'English' }).click()
    expect(await holderPage.getByRole('heading', { name: 'Who checked my licences' }).isVisible()).toBe(true)
    expect(await holderPage.locator('html').getAttribute('lang')).toBe('en')
    expect(await holderPage.locator('tr[data-use] td[data-label="Result"]').first().textContent()).toBe('Valid')
    expect(await overflowing(holderPage)).toEqual([])
    // The teller's page in English at 360 px, and back in Chinese.
    await teller.goto(`${server.base}/bank?lang=en`)
    expect(await teller.getByLabel('Customer’s consent code').isVisible()).toBe(true)
    expect(await overflowing(teller)).toEqual([])
    await teller.goto(`${server.base}/bank?lang=zh`)
    expect(await teller.getByLabel('客户授权码').isVisible()).toBe(true)
    await holderContext.close()
    await tellerContext.close()
  })

  it('holder withdraws a consent and the teller is told so', async () => {
    const { context, page } = await phone()
    await page.goto(`${server.base}/holder?lang=zh`)
    await page.getByLabel('持证人凭证').fill(holder.credential)
    await page.getByRole('button', { name: '登录' }).click()
    await page.getByRole('button', { name: '生成授权码' }).click()
    const code = (await page.getByTestId('consent-code').textContent()) ?? ''
    await page.getByRole('button', { name: /^撤回/ }).first().click()
    expect(await page.locator('tr[data-consent]').first().getAttribute('data-state')).toBe('withdrawn')
    const answer = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code } })
    expect((await answer.json()).code).toBe('consent_withdrawn')
    await context.close()
  })

  it('verify page: a valid licence is 有效, a tampered one 无效', async () => {
    const { context, page } = await phone()
    await page.goto(`${server.base}/verify`)
    await page.getByLabel('凭证或二维码内容').fill(holder.licence.credential)
    await page.getByRole('button', { name: '核验' }).click()
    expect(await page.locator('.verdict').first().getAttribute('data-indication')).toBe('TOTAL_PASSED')
    expect(await page.locator('#report').textContent()).toContain('赣州页面测试有限公司')
    expect(await page.locator('li[data-check="signature"]').getAttribute('data-result')).toBe('passed')
    expect(await overflowing(page)).toEqual([])
    await page.screenshot({ path: screenshotPath('verify-valid.png'), fullPage: true })

    const [header, payload, signature] = holder.licence.credential.split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    claims.credentialSubject.holder.name = '冒名顶替有限公司'
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
    await page.getByLabel('凭证或二维码内容').fill(tampered)
    await page.getByRole('button', { name: '核验' }).click()
    expect(await page.locator('.verdict').first().getAttribute('data-indication')).toBe('TOTAL_FAILED')
    expect((await page.locator('.verdict').first().textContent())?.trim()).toMatch(/^无效/)
    expect(await page.locator('li[data-check="signature"]').getAttribute('data-result')).toBe('failed')
    expect(await page.locator('#report').textContent()).not.toContain('冒名顶替')
    await page.screenshot({ path: screenshotPath('verify-tampered.png'), fullPage: true })
    await context.close()
  })

  it('verify page: an uploaded signed PDF, and a licence QR code opened as its /verify#qr= link', async () => {
    const pdf = Buffer.from(await (await t.request('GET', `/v1/holder/licences/${holder.licence.id}/pdf`, { token: holder.credential })).arrayBuffer())
    const { context, page } = await phone()
    await page.goto(`${server.base}/verify`)
    await page.getByLabel('或上传PDF文件').setInputFiles({ name: 'licence.pdf', mimeType: 'application/pdf', buffer: pdf })
    await page.getByRole('button', { name: '核验' }).click()
    expect(await page.locator('.verdict').first().getAttribute('data-indication')).toBe('TOTAL_PASSED')
    expect(await page.getByRole('region', { name: '文件中的签名' }).textContent()).toContain('行政审批专用章')
    expect(await page.locator('#report').textContent()).toContain('赣州页面测试有限公司')
    expect(await overflowing(page)).toEqual([])
    await page.screenshot({ path: screenshotPath('verify-pdf.png'), fullPage: true })

    // The QR code printed on the licence names /verify#qr=<payload>; the fragment never reaches the server, the page's script submits it.
    const qr = embeddedLicenceQr(pdf, pdf.length)
    expect(qr).toMatch(/\/verify#qr=/)
    const scanned = await context.newPage()
    await scanned.goto(`${server.base}/verify#qr=${(qr as string).split('#qr=')[1]}`)
    await scanned.waitForSelector('.verdict')
    expect(await scanned.locator('.verdict').first().getAttribute('data-indication')).toBe('TOTAL_PASSED')
    expect(await scanned.locator('#report').textContent()).toContain('赣州页面测试有限公司')
    expect(scanned.url()).toBe(`${server.base}/verify`)
    await context.close()
  })

  it('ran without a single Content-Security-Policy violation', () => {
    expect(cspViolations).toEqual([])
  })
})
