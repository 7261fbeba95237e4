import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signResponse } from '../../src/adapters/crypto/http-signatures'
import { attachment, digest, establishmentForLonggang, testPdf, uploadAttachments } from '../support/applications'
import { forwardedToLonggang, lgDecides, messagesAbout, viewAt } from '../support/cross-region'
import { gzForward, lgHolds, sendToLonggang } from '../support/forwarding'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
})
afterAll(() => pair.close())

/** The documents of a 企业设立登记, distinct per edition, so that 龙岗 holds none of them yet. */
const establishmentDocuments = (edition: string) => ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key, `${key} ${edition}`))

/** 龙岗 asks 赣州 for a document through its signed partner client. */
const lgFetches = (sha256: string) => pair.lg.deps.partners.client.call('360700', { method: 'GET', path: `/v1/partner/attachments/${sha256}` })

describe('a document that is not the one the application names is never kept', () => {
  it('fails the fetch when 赣州 answers with bytes of another digest, keeps nothing, and approval is refused', async () => {
    const request = establishmentForLonggang({ attachments: establishmentDocuments('forged') })
    await uploadAttachments(pair.gz, request.attachments)
    const { id } = await (await pair.gz.request('POST', '/v1/applications', { json: request })).json()
    await pair.gz.outbox.drain()
    const [articles] = request.attachments as [ReturnType<typeof attachment>]
    // 赣州 answers with another document, signed with its partner-auth key as a true answer would be (a partner gone wrong).
    const other = testPdf('another document')
    const path = `/v1/partner/attachments/${articles.sha256}`
    pair.override('gz.test', path, async (asked) => {
      const headers: Record<string, string> = {}
      asked.headers.forEach((value, name) => void (headers[name] = value))
      const signed = await signResponse(
        { status: 200, body: other, headers: { 'content-type': 'application/pdf' } },
        { method: 'GET', url: asked.url, headers, body: new Uint8Array() },
        pair.gz.deps.partners.signingKey,
        new Date(),
      )
      return new Response(other as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': 'application/pdf', ...signed } })
    })
    try {
      await pair.lg.outbox.drain()
    } finally {
      pair.override('gz.test', path, undefined)
    }

    const jobs = await messagesAbout(pair.lg, id, 'application.attachment-fetch')
    const failed = jobs.find((m) => m.destination === `attachment:${articles.sha256}`)
    expect(failed).toMatchObject({ state: 'abandoned', attempts: 1 })
    expect(failed?.last_error).toContain(`its SHA-256 is `)
    expect(failed?.last_error).toContain(`not ${articles.sha256}`)
    expect(failed?.last_error).toContain('nothing was kept')
    expect(jobs.filter((m) => m !== failed).map((m) => m.state)).toEqual(['delivered', 'delivered'])
    expect(await pair.lg.db.query('SELECT sha256 FROM attachments WHERE sha256 = $1', [articles.sha256])).toEqual([])

    const there = await viewAt(pair.lg, id)
    expect(there.attachments.map((a: { held: boolean }) => a.held)).toEqual([false, true, true])
    // The reason shows with the application, for 龙岗's staff.
    expect(there.messages.find((m: { destination: string }) => m.destination === `attachment:${articles.sha256}`)).toMatchObject({ state: 'abandoned', lastError: failed?.last_error })
    await lgDecides(pair, id, { action: 'accept' })
    await lgDecides(pair, id, { action: 'review' })
    const licences = await pair.lg.db.query('SELECT id FROM licences')
    const approval = await pair.lg.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'approve', licence: { validUntil: '2056-12-03', fields: { establishedOn: '2026-12-04' } } } })
    expect(approval.status).toBe(409)
    const problem = await approval.json()
    expect(problem).toMatchObject({ code: 'attachments_not_held', errors: [{ message: expect.stringContaining(articles.sha256) }] })
    expect((await viewAt(pair.lg, id)).status).toBe('in_review')
    expect(await pair.lg.db.query('SELECT id FROM licences')).toEqual(licences)
  })

  it('never fetches a URL named in a request: an attachment with a url is refused at the window and in a forward', async () => {
    const [first, ...rest] = establishmentForLonggang().attachments as [ReturnType<typeof attachment>]
    const withUrl = [{ ...first, url: 'http://evil.test/steal' }, ...rest]
    const atWindow = await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang({ attachments: withUrl }) })
    expect(atWindow.status).toBe(400)
    expect((await atWindow.json()).errors).toContainEqual(expect.objectContaining({ pointer: '/attachments/0/url' }))

    const before = await lgHolds(pair)
    const forward = await gzForward(pair, { application: { attachments: withUrl } })
    const answer = await sendToLonggang(pair, forward)
    expect(answer.status).toBe(400)
    expect(answer.json<{ errors: Array<{ pointer: string }> }>().errors).toContainEqual(expect.objectContaining({ pointer: '/application/attachments/0/url' }))
    expect(await lgHolds(pair)).toEqual(before)
    await pair.lg.outbox.drain()
    expect(pair.fetched.some((url) => url.includes('evil.test'))).toBe(false)
  })
})

describe('GET /v1/partner/attachments/{sha256} serves only what was offered to the caller', () => {
  it('answers 404 for a digest of an application the caller does not handle, held or not, revealing nothing', async () => {
    const local = establishmentForLonggang({ handlingRegion: undefined, attachments: establishmentDocuments('local') })
    await uploadAttachments(pair.gz, local.attachments)
    expect((await pair.gz.request('POST', '/v1/applications', { json: local })).status).toBe(201)
    const heldAtGz = local.attachments[0]?.sha256 as string

    const answers = []
    for (const sha256 of [heldAtGz, digest(9), 'not-a-digest']) {
      const answer = await lgFetches(sha256)
      expect(answer.status, sha256).toBe(404)
      answers.push(answer.json<{ code: string; detail: string }>())
    }
    expect(answers.map((a) => a.code)).toEqual(['attachment_not_found', 'attachment_not_found', 'attachment_not_found'])
    // A document held but not offered is answered as one that does not exist.
    expect(answers[0]?.detail.replace(heldAtGz, 'X')).toBe(answers[1]?.detail.replace(digest(9), 'X'))
  })

  it('does not hand documents back the other way: 龙岗 serves 赣州 none of those it fetched', async () => {
    const { id } = await forwardedToLonggang(pair, { attachments: establishmentDocuments('back') })
    const [first] = (await viewAt(pair.lg, id)).attachments as Array<{ sha256: string; held: boolean }>
    expect(first?.held).toBe(true)
    const answer = await pair.gz.deps.partners.client.call('440307', { method: 'GET', path: `/v1/partner/attachments/${first?.sha256}` })
    expect(answer.status).toBe(404)
    expect(answer.json<{ code: string }>().code).toBe('attachment_not_found')
  })

  it('is behind the partner door: an unsigned request, or one with the admin token, is refused', async () => {
    const { id } = await forwardedToLonggang(pair, { attachments: establishmentDocuments('door') })
    const [first] = (await viewAt(pair.gz, id)).attachments as Array<{ sha256: string }>
    for (const token of [null, undefined]) {
      const answer = await pair.gz.request('GET', `/v1/partner/attachments/${first?.sha256}`, { token })
      expect(answer.status).toBe(401)
      expect((await answer.json()).code).toBe('partner_unsigned')
    }
    // Signed by 龙岗, the handling region, it is served.
    expect((await lgFetches(first?.sha256 as string)).status).toBe(200)
  })
})

describe('/v1/attachments at the window', () => {
  it('needs the admin bearer token, before the body is looked at; nothing is stored without it', async () => {
    const before = await pair.gz.db.query('SELECT sha256 FROM attachments')
    for (const token of [null, 'wrong-token-0123456789']) {
      for (const type of ['application/pdf', 'text/plain']) {
        const answer = await pair.gz.request('POST', '/v1/attachments', { token, body: testPdf('unauthorised') as Uint8Array<ArrayBuffer>, headers: { 'content-type': type } })
        expect(answer.status).toBe(401)
        expect((await answer.json()).code).toBe('unauthorized')
      }
      const read = await pair.gz.request('GET', `/v1/attachments/${(before[0] as { sha256: string } | undefined)?.sha256 ?? digest(1)}`, { token })
      expect(read.status).toBe(401)
    }
    expect(await pair.gz.db.query('SELECT sha256 FROM attachments')).toEqual(before)
  })

  it('serves a document as a download that browsers do not sniff, and caches do not keep', async () => {
    const [held] = establishmentDocuments('served')
    await uploadAttachments(pair.gz, [held as ReturnType<typeof attachment>])
    const answer = await pair.gz.request('GET', `/v1/attachments/${held?.sha256}`)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-disposition')).toBe('attachment')
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('cache-control')).toBe('no-store')
  })
})
