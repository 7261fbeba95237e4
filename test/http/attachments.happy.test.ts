import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachment, establishmentForLonggang, testPdf, uploadAttachments } from '../support/applications'
import { forwardedToLonggang, lgApproves, messagesAbout, viewAt } from '../support/cross-region'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
})
afterAll(() => pair.close())

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const upload = (bytes: Uint8Array, mediaType: string) => pair.gz.request('POST', '/v1/attachments', { body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': mediaType } })

/** The documents of a 企业设立登记, distinct per edition, so that 龙岗 holds none of them yet. */
const establishmentDocuments = (edition: string) => ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key, `${key} ${edition}`))

describe('POST /v1/attachments: the window uploads a document', () => {
  it.each([
    ['a PDF', 'application/pdf', testPdf('营业执照申请书')],
    ['a PNG scan', 'image/png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])],
    ['a JPEG photo', 'image/jpeg', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1])],
  ])('holds %s under its SHA-256, once however often it is uploaded, and serves it back as it was', async (_, mediaType, bytes) => {
    const first = await upload(bytes, mediaType)
    expect(first.status).toBe(201)
    const held = { sha256: sha256(bytes), size: bytes.length, mediaType }
    expect(await first.json()).toEqual(held)
    expect(first.headers.get('location')).toBe(`/v1/attachments/${held.sha256}`)

    const again = await upload(bytes, `${mediaType}; name=scan`)
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(held)
    const [row] = await pair.gz.db.query<{ n: number }>('SELECT count(*)::int AS n FROM attachments WHERE sha256 = $1', [held.sha256])
    expect(row?.n).toBe(1)

    const served = await pair.gz.request('GET', `/v1/attachments/${held.sha256}`)
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe(mediaType)
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
  })

  it('takes a document of exactly 10 MiB', async () => {
    const bytes = new Uint8Array(10 * 1024 * 1024).fill(0x20)
    bytes.set(new TextEncoder().encode('%PDF-1.7\n'))
    const answer = await upload(bytes, 'application/pdf')
    expect(answer.status).toBe(201)
    expect((await answer.json()).size).toBe(10 * 1024 * 1024)
  })
})

describe('an application names held documents', () => {
  it('is registered when each attachment names a document uploaded here, and shows each held', async () => {
    const request = establishmentForLonggang({ handlingRegion: undefined, attachments: establishmentDocuments('window') })
    await uploadAttachments(pair.gz, request.attachments)
    const created = await pair.gz.request('POST', '/v1/applications', { json: request })
    expect(created.status).toBe(201)
    expect((await created.json()).attachments).toEqual(request.attachments.map((a) => ({ ...a, held: true })))
  })
})

describe('龙岗 fetches the documents of an application 赣州 forwarded (远程办理)', () => {
  it('fetches each from 赣州 by digest through the partner API, checks it, holds it, and can then approve', async () => {
    const request = establishmentForLonggang({ attachments: establishmentDocuments('forwarded') })
    await uploadAttachments(pair.gz, request.attachments)
    const { id } = await (await pair.gz.request('POST', '/v1/applications', { json: request })).json()
    await pair.gz.outbox.drain()

    // The forward stored the application at 龙岗 with one fetch job per document, in the same transaction.
    expect((await viewAt(pair.lg, id)).attachments.map((a: { held: boolean }) => a.held)).toEqual([false, false, false])
    const jobs = await messagesAbout(pair.lg, id, 'application.attachment-fetch')
    expect(jobs.map((m) => [m.destination, m.state])).toEqual(request.attachments.map((a) => [`attachment:${a.sha256}`, 'pending']))

    await pair.lg.outbox.drain()
    const there = await viewAt(pair.lg, id)
    expect(there.attachments).toEqual(request.attachments.map((a) => ({ ...a, held: true })))
    expect(there.messages.filter((m: { topic: string }) => m.topic === 'application.attachment-fetch').map((m: { state: string }) => m.state)).toEqual(['delivered', 'delivered', 'delivered'])
    for (const a of request.attachments) {
      const held = await pair.lg.request('GET', `/v1/attachments/${a.sha256}`)
      expect(sha256(new Uint8Array(await held.arrayBuffer()))).toBe(a.sha256)
    }
    // 赣州 recorded each fetch as a partner call from 龙岗, answered 200.
    const calls = await pair.gz.db.query<{ detail: { path: string; partner: string; status: number; direction: string } }>(
      "SELECT detail FROM audit_entries WHERE kind = 'partner_call' AND detail->>'path' LIKE '/v1/partner/attachments/%' AND detail->>'direction' = 'in' ORDER BY seq",
    )
    expect(calls.map((c) => [c.detail.path, c.detail.partner, c.detail.status])).toEqual(expect.arrayContaining(request.attachments.map((a) => [`/v1/partner/attachments/${a.sha256}`, '440307', 200])))

    const { licence } = await lgApproves(pair, id, 480)
    expect(licence.id).toEqual(expect.any(String))
  })

  it('enqueues nothing for a document it holds already', async () => {
    const request = establishmentForLonggang({ attachments: establishmentDocuments('twice') })
    await forwardedToLonggang(pair, request)
    const { id } = await (await pair.gz.request('POST', '/v1/applications', { json: request })).json()
    await pair.gz.outbox.drain()
    expect(await messagesAbout(pair.lg, id, 'application.attachment-fetch')).toEqual([])
    expect((await viewAt(pair.lg, id)).attachments.every((a: { held: boolean }) => a.held)).toBe(true)
  })
})
