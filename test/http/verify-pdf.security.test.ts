import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendUpdate, finalState, makePdf } from '../adapters/pdf/pades-fixtures'
import { PdfRef } from '../../src/adapters/pdf/pdf-syntax'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'

/**
 * Attacks on licence PDFs through the public verify endpoint: each must end in a report that
 * does not pass (or a 4xx for what is not a PDF at all), never a 500.
 */
describe('forged and damaged licence PDFs', () => {
  let t: TestApp
  let pdf: Uint8Array
  let other: Uint8Array
  let number: string

  const post = (body: Uint8Array) => t.request('POST', '/v1/verify', { body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/pdf' }, token: null })
  const verify = async (body: Uint8Array) => {
    const response = await post(body)
    expect(response.status).toBe(200)
    return response.json()
  }
  const failedChecks = (report: { signatures: Array<{ checks: Array<{ name: string; result: string }> }> }) =>
    report.signatures.flatMap((s) => s.checks.filter((c) => c.result === 'failed').map((c) => c.name))

  beforeAll(async () => {
    t = await createTestApp()
    const issue = async (name: string) => {
      const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: '91350100M000100Y43', name } }) })).json()
      return { licence, pdf: new Uint8Array(await (await t.request('GET', `/v1/licences/${licence.id}/pdf`)).arrayBuffer()) }
    }
    const first = await issue('真实企业有限公司')
    pdf = first.pdf
    number = first.licence.number
    other = (await issue('另一企业有限公司')).pdf
  })
  afterAll(() => t.close())

  it('an incremental update that replaces the page content after signing is TOTAL_FAILED', async () => {
    const state = finalState(pdf)
    const page = state.pages()[0] as { ref: PdfRef; dict: { get(name: string): unknown } }
    const contents = page.dict.get('Contents')
    const ref = (Array.isArray(contents) ? contents[0] : contents) as PdfRef
    const text = 'BT /F1 24 Tf 100 700 Td (FAKE) Tj ET'
    const forged = appendUpdate(pdf, { [ref.num]: `<</Length ${text.length}>>\nstream\n${text}\nendstream` })
    const report = await verify(forged)
    expect(report.indication).toBe('TOTAL_FAILED')
    expect(failedChecks(report)).toContain('no-unallowed-changes-after-signature')
  })

  it('a later update that swaps the embedded licence for another one is not believed', async () => {
    const info = finalState(pdf).trailer.get('Info') as PdfRef
    const otherQr = finalState(other).dict(finalState(other).trailer.get('Info'))?.get('TongbanLicenceQR') as { bytes: Uint8Array }
    const hex = Buffer.from(otherQr.bytes).toString('hex')
    const forged = appendUpdate(pdf, { [info.num]: `<</TongbanLicenceQR <${hex}>>>` })
    const swapped = finalState(forged).dict(finalState(forged).trailer.get('Info'))?.get('TongbanLicenceQR') as { bytes: Uint8Array }
    expect(Buffer.from(swapped.bytes).equals(Buffer.from(otherQr.bytes))).toBe(true)
    const report = await verify(forged)
    // The licence is read from the revision the signature covers, so it is still the original one.
    expect(report.licence?.number).toBe(number)
  })

  it('bytes appended after the signed revision are reported', async () => {
    const forged = new Uint8Array([...pdf, ...new TextEncoder().encode('\n% appended\n1 0 obj (x) endobj\n')])
    const report = await verify(forged)
    expect(report.indication).not.toBe('TOTAL_PASSED')
  })

  it('a byte changed inside the signed range is a HASH_FAILURE', async () => {
    const forged = pdf.slice()
    const at = pdf.length >> 2
    forged[at] = (forged[at] as number) ^ 0x01
    const report = await verify(forged)
    expect(report.indication).toBe('TOTAL_FAILED')
  })

  it('a truncated licence PDF is a failed report, never a 500', async () => {
    for (const length of [pdf.length - 10, pdf.length >> 1, 2000, 20]) {
      const response = await post(pdf.slice(0, length))
      expect(response.status).toBeLessThan(500)
      if (response.status === 200) expect((await response.json()).indication).not.toBe('TOTAL_PASSED')
    }
  })

  it('an unsigned PDF is TOTAL_FAILED: nothing vouches for it', async () => {
    expect(await verify(await makePdf())).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' })
  })

  it('what is not a PDF is a 400 problem', async () => {
    const response = await post(new TextEncoder().encode('{"credential": "not a pdf"}'))
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect((await response.json()).code).toBe('not_a_pdf')
  })
})
