import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachment, digest, establishmentForLonggang, hygieneApplication, testPdf, uploadAttachments } from '../support/applications'
import { forwardedToLonggang, lgDecides, messagesAbout, viewAt } from '../support/cross-region'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
  await uploadAttachments(pair.gz, [...hygieneApplication().attachments, ...establishmentForLonggang().attachments])
})
afterAll(() => pair.close())

const count = async (table: string) => ((await pair.gz.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0] as { n: number }).n
const stored = async () => [await count('attachments'), await count('applications'), await count('application_events'), await count('outbox_messages')]
const upload = (body: Uint8Array, headers: Record<string, string>) => pair.gz.request('POST', '/v1/attachments', { body: body as Uint8Array<ArrayBuffer>, headers })
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])

/** The documents of a 企业设立登记, distinct per edition, so that 龙岗 holds none of them yet. */
const establishmentDocuments = (edition: string) => ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key, `${key} ${edition}`))

describe('POST /v1/attachments refusals: nothing is stored', () => {
  it.each([
    ['a type the window does not take', testPdf('x'), { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    ['no Content-Type', testPdf('x'), {}, 415, 'unsupported_media_type'],
    ['an empty document', new Uint8Array(), { 'content-type': 'application/pdf' }, 422, 'attachment_empty'],
    ['a PNG sent as a PDF', PNG, { 'content-type': 'application/pdf' }, 422, 'attachment_not_matching_type'],
    ['a PDF sent as a PNG', testPdf('y'), { 'content-type': 'image/png' }, 422, 'attachment_not_matching_type'],
    ['text sent as a JPEG', new TextEncoder().encode('not a photo'), { 'content-type': 'image/jpeg' }, 422, 'attachment_not_matching_type'],
    ['a PDF whose header is not at its start', new TextEncoder().encode(' %PDF-1.4\n%%EOF'), { 'content-type': 'application/pdf' }, 422, 'attachment_not_matching_type'],
    ['a document over 10 MiB', new Uint8Array(10 * 1024 * 1024 + 1).fill(0x25), { 'content-type': 'application/pdf' }, 413, 'body_too_large'],
  ])('refuses %s', async (_, body, headers, status, code) => {
    const before = await count('attachments')
    const answer = await upload(body, headers)
    expect(answer.status).toBe(status)
    expect(answer.headers.get('content-type')).toBe('application/problem+json')
    expect((await answer.json()).code).toBe(code)
    expect(await count('attachments')).toBe(before)
  })

  it('answers 404 attachment_not_found for a document not held, whatever the digest looks like', async () => {
    for (const sha256 of [digest(1), 'not-a-digest', digest(1).toUpperCase()]) {
      const answer = await pair.gz.request('GET', `/v1/attachments/${sha256}`)
      expect(answer.status, sha256).toBe(404)
      expect((await answer.json()).code).toBe('attachment_not_found')
    }
  })
})

describe('applications naming documents that are not held here, or not as named', () => {
  it('refuses a document not held (422 attachment_not_held, pointing at its sha256) and stores nothing', async () => {
    const before = await stored()
    const [layout, ...rest] = hygieneApplication().attachments
    const answer = await pair.gz.request('POST', '/v1/applications', { json: hygieneApplication({ attachments: [{ ...layout, sha256: digest(2) }, ...rest] }) })
    expect(answer.status).toBe(422)
    expect(await answer.json()).toMatchObject({ code: 'attachment_not_held', errors: [{ pointer: '/attachments/0/sha256' }] })
    expect(await stored()).toEqual(before)
  })

  it('refuses a held document named with another size or media type (422 attachment_mismatch)', async () => {
    const before = await stored()
    const [layout, report, rules] = hygieneApplication().attachments as [ReturnType<typeof attachment>, ReturnType<typeof attachment>, ReturnType<typeof attachment>]
    const answer = await pair.gz.request('POST', '/v1/applications', { json: hygieneApplication({ attachments: [layout, { ...report, size: report.size + 1 }, { ...rules, mediaType: 'image/png' }] }) })
    expect(answer.status).toBe(422)
    const problem = await answer.json()
    expect(problem.code).toBe('invalid_application')
    expect(problem.errors.map((e: { code: string; pointer: string }) => `${e.code} ${e.pointer}`)).toEqual(['attachment_mismatch /attachments/1', 'attachment_mismatch /attachments/2'])
    expect(await stored()).toEqual(before)
  })

  it('reports them with every other problem of the request at once', async () => {
    const before = await stored()
    const answer = await pair.gz.request('POST', '/v1/applications', {
      json: hygieneApplication({ form: { address: '' }, attachments: [...hygieneApplication().attachments.slice(0, 2), { key: 'hygiene-management-rules', sha256: digest(3), size: 10, mediaType: 'application/pdf' }] }),
    })
    expect(answer.status).toBe(422)
    const problem = await answer.json()
    expect(problem.code).toBe('invalid_application')
    expect(problem.errors.map((e: { code: string }) => e.code)).toEqual(expect.arrayContaining(['invalid_form', 'attachment_not_held']))
    expect(problem.errors.find((e: { code: string }) => e.code === 'attachment_not_held').pointer).toBe('/attachments/2/sha256')
    expect(await stored()).toEqual(before)
  })

  it('refuses the same at a bank’s counter (POST /v1/bank/applications)', async () => {
    const bank = await (await pair.gz.request('POST', '/v1/admin/relying-parties', { json: { name: '中国建设银行', branch: '赣州附件支行', purposes: ['企业开办'], mayRequest: { 'business-licence': ['address'] } } })).json()
    const { applicant, form, attachments } = establishmentForLonggang()
    const before = await stored()
    const answer = await pair.gz.request('POST', '/v1/bank/applications', { token: bank.credential, json: { applicant, form, attachments: [...attachments.slice(1), { key: 'articles-of-association', sha256: digest(4), size: 10, mediaType: 'application/pdf' }] } })
    expect(answer.status).toBe(422)
    expect(await answer.json()).toMatchObject({ code: 'attachment_not_held', errors: [{ pointer: '/attachments/2/sha256' }] })
    expect(await stored()).toEqual(before)
  })

  it('refuses a supplement naming a document not held, and leaves the application waiting', async () => {
    const { id } = await (await pair.gz.request('POST', '/v1/applications', { json: hygieneApplication() })).json()
    await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'request-more', missing: ['从业人员健康合格证明'] } })
    const answer = await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'supplement', attachments: [{ key: 'staff-health-certificates', sha256: digest(5), size: 10, mediaType: 'application/pdf' }] } })
    expect(answer.status).toBe(422)
    expect(await answer.json()).toMatchObject({ code: 'attachment_not_held', errors: [{ pointer: '/attachments/0/sha256' }] })
    const shown = await viewAt(pair.gz, id)
    expect(shown.status).toBe('more_requested')
    expect(shown.timeline).toHaveLength(2)
  })

  it('refuses a supplement for 龙岗 naming a document not held at 赣州’s window, and sends nothing', async () => {
    const { id } = await forwardedToLonggang(pair)
    await lgDecides(pair, id, { action: 'request-more', missing: ['章程'] })
    await pair.lg.outbox.drain()
    const answer = await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'supplement', attachments: [{ key: 'articles-of-association', sha256: digest(6), size: 10, mediaType: 'application/pdf' }] } })
    expect(answer.status).toBe(422)
    expect((await answer.json()).code).toBe('attachment_not_held')
    expect(await messagesAbout(pair.gz, id, 'application.decision-request')).toEqual([])
  })
})

describe('龙岗 fetching documents while 赣州 cannot be reached', () => {
  it('retries with backoff, refuses to approve meanwhile, and holds them once 赣州 is back', async () => {
    const request = establishmentForLonggang({ attachments: establishmentDocuments('down') })
    await uploadAttachments(pair.gz, request.attachments)
    const { id } = await (await pair.gz.request('POST', '/v1/applications', { json: request })).json()
    await pair.gz.outbox.drain()
    pair.setDown('gz.test', true)
    try {
      await pair.lg.outbox.drain()
      const waiting = await messagesAbout(pair.lg, id, 'application.attachment-fetch')
      expect(waiting.map((m) => [m.state, m.attempts])).toEqual([
        ['pending', 1],
        ['pending', 1],
        ['pending', 1],
      ])
      expect(waiting.every((m) => m.last_error?.includes('gz.test is down'))).toBe(true)

      await lgDecides(pair, id, { action: 'accept' })
      await lgDecides(pair, id, { action: 'review' })
      const refused = await pair.lg.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'approve', licence: { validUntil: '2056-12-03', fields: { establishedOn: '2026-12-04' } } } })
      expect(refused.status).toBe(409)
      const problem = await refused.json()
      expect(problem.code).toBe('attachments_not_held')
      expect(problem.errors).toHaveLength(3)
      for (const a of request.attachments) expect(problem.detail).toContain(a.sha256)
      expect((await viewAt(pair.lg, id)).status).toBe('in_review')
    } finally {
      pair.setDown('gz.test', false)
    }
    // Not due yet: each retry waits for its backoff (at most 2 s after the first failure).
    await pair.lg.outbox.drain()
    expect((await messagesAbout(pair.lg, id, 'application.attachment-fetch')).map((m) => m.state)).toEqual(['pending', 'pending', 'pending'])
    pair.advanceLg(5_000)
    await pair.lg.outbox.drain()
    expect((await messagesAbout(pair.lg, id, 'application.attachment-fetch')).map((m) => [m.state, m.attempts])).toEqual([
      ['delivered', 2],
      ['delivered', 2],
      ['delivered', 2],
    ])
    expect((await viewAt(pair.lg, id)).attachments.every((a: { held: boolean }) => a.held)).toBe(true)
  })
})
