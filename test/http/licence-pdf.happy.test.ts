import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nssDbTrusting, pdfsig, tempDir } from '../adapters/pdf/pades-fixtures'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'

/** The QR code as a phone reads it: the top right of page 1, rendered and decoded. */
function scanQr(pdf: Uint8Array): string | undefined {
  const dir = tempDir()
  writeFileSync(join(dir, 'licence.pdf'), pdf)
  execFileSync('pdftoppm', ['-r', '300', '-png', '-singlefile', '-f', '1', '-l', '1', '-x', '1240', '-y', '0', '-W', '1240', '-H', '1250', join(dir, 'licence.pdf'), join(dir, 'corner')])
  const png = PNG.sync.read(readFileSync(join(dir, 'corner.png')))
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data
}

describe('the licence PDF', () => {
  let t: TestApp
  let licence: { id: string; number: string; holder: { name: string } }
  let pdf: Uint8Array

  beforeAll(async () => {
    t = await createTestApp()
    licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    const response = await t.request('GET', `/v1/licences/${licence.id}/pdf`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/pdf')
    pdf = new Uint8Array(await response.arrayBuffer())
  })
  afterAll(() => t.close())

  it('is signed by the bureau seal, and pdfsig trusts it under the region root', () => {
    const report = pdfsig(pdf, nssDbTrusting(t.pki.root.certificate))
    expect(report).toContain('Signature is Valid')
    expect(report).toContain('Certificate is Trusted')
    expect(report).toContain('行政审批专用章')
    expect(report).toContain('Total document signed')
    expect(pdf.length).toBeLessThan(1024 * 1024)
  })

  it('carries the holder, the number and the type as extractable Chinese text', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'l.pdf'), pdf)
    const text = execFileSync('pdftotext', ['-layout', join(dir, 'l.pdf'), '-'], { encoding: 'utf8' })
    expect(text).toContain('赣州通办科技有限公司')
    expect(text).toContain('营业执照')
    expect(text).toContain(licence.number)
  })

  it('has a QR code whose payload verifies, and reports the licence revoked once it is', async () => {
    const scanned = scanQr(pdf)
    expect(scanned).toMatch(/^http:\/\/tongban\.test\/verify#qr=[\w-]+\.[\w-]+\.[\w-]+$/)
    const verify = async () => (await t.request('POST', '/v1/verify', { json: { qr: scanned }, token: null })).json()
    const report = await verify()
    expect(report).toMatchObject({ indication: 'TOTAL_PASSED', format: 'qr', licence: { number: licence.number, holder: { name: '赣州通办科技有限公司' } } })
    await t.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '吊销' } })
    expect(await verify()).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' })
  })

  it('refuses a credential offered as a QR payload and a QR payload offered as a credential', async () => {
    const qr = (scanQr(pdf) as string).split('qr=')[1] as string
    const credential = (await (await t.request('GET', `/v1/licences/${licence.id}`)).json()).credential
    const asCredential = await (await t.request('POST', '/v1/verify', { json: { credential: qr } })).json()
    const asQr = await (await t.request('POST', '/v1/verify', { json: { qr: credential } })).json()
    for (const report of [asCredential, asQr]) {
      expect(report).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' })
      expect(report.checks.find((c: { name: string }) => c.name === 'media-type').result).toBe('failed')
    }
  })
})
