import { compactVerify, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPLICATION_EVENT_TYP } from '../../src/core/application/application-events'
import { agreedPart, approval, forwardedToLonggang, lgApproves, lgDecides, messagesAbout, viewAt } from '../support/cross-region'
import { attachment, uploadAttachments } from '../support/applications'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
})
afterAll(() => pair.close())

describe('龙岗 handles an application 赣州 accepted, and 赣州 sees every step (远程办理 → 异地受理)', () => {
  it('sends each step back as a signed event; 赣州 keeps the same timeline and status, each step with 龙岗’s statement', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { licence } = await lgApproves(pair, id)
    // Each step was enqueued at 龙岗 in its own transaction, one message each, to 赣州's events endpoint.
    const events = await messagesAbout(pair.lg, id, 'application.event')
    expect(events.map((m) => [m.destination, m.headers['tongban-partner-path'], m.state])).toEqual([
      ['partner:360700', '/v1/partner/events', 'pending'],
      ['partner:360700', '/v1/partner/events', 'pending'],
      ['partner:360700', '/v1/partner/events', 'pending'],
    ])
    await pair.lg.outbox.drain()
    expect((await messagesAbout(pair.lg, id, 'application.event')).map((m) => m.state)).toEqual(['delivered', 'delivered', 'delivered'])

    const there = await viewAt(pair.lg, id)
    const here = await viewAt(pair.gz, id)
    expect(here.status).toBe('approved')
    expect(there.status).toBe('approved')
    expect(here.timeline.map(agreedPart)).toEqual(there.timeline.map(agreedPart))
    expect(here.timeline.map((e: { action: string }) => e.action)).toEqual(['submit', 'accept', 'review', 'approve'])
    expect(here.timeline[3].detail).toEqual({ licence })
    expect(here.timeline[1].actor).toBe(`partner:440307 ${there.timeline[1].actor}`)

    // Every step from 龙岗 carries its statement, which verifies with 龙岗's attestation key and says what the step says.
    expect(here.timeline[0].statement).toBeUndefined()
    for (const step of here.timeline.slice(1)) {
      const header = decodeProtectedHeader(step.statement)
      expect(header.typ).toBe(APPLICATION_EVENT_TYP)
      const key = pair.gz.trustStore.findRegionKey(header.kid as string, 'attestation-signer')
      expect(key?.region.code).toBe('440307')
      const claims = JSON.parse(new TextDecoder().decode((await compactVerify(step.statement, key!.publicKey)).payload))
      expect(claims).toMatchObject({ iss: 'http://lg.test', region: { code: '440307' }, aud: '360700', applicationId: id, event: { sequence: step.sequence, action: step.action, to: step.to, at: step.at } })
    }
    expect(here.messages.map((m: { topic: string; state: string }) => [m.topic, m.state])).toEqual([
      ['application.forward', 'delivered'],
      ['licence.collect', 'pending'],
    ])
  })

  it('collects the licence 龙岗 issued, verifies it with 龙岗’s trust list, and hands it over at the window (异地领证)', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { licence } = await lgApproves(pair, id, 441)
    await pair.lg.outbox.drain()
    expect((await viewAt(pair.gz, id)).collection).toMatchObject({ state: 'waiting', licence: { id: licence.id, number: licence.number, issuingRegion: '440307' }, pdf: null })

    await pair.gz.outbox.drain()
    const ready = await viewAt(pair.gz, id)
    expect(ready.collection).toMatchObject({
      state: 'ready',
      verification: { pdf: { indication: 'TOTAL_PASSED', subIndication: null }, credential: { indication: 'TOTAL_PASSED', subIndication: null } },
      pdf: `/v1/applications/${id}/collection/pdf`,
      lastError: null,
      readyAt: expect.any(String),
      handedOverAt: null,
    })
    // The credential handed over is 龙岗's own, as its licence endpoint serves it.
    const issued = await (await pair.lg.request('GET', `/v1/licences/${licence.id}/credential`)).text()
    expect(ready.collection.credential).toBe(issued)
    // 龙岗 recorded both fetches as partner calls from 赣州.
    const calls = await pair.lg.db.query<{ detail: { path: string; partner: string; status: number } }>(
      "SELECT detail FROM audit_entries WHERE kind = 'partner_call' AND detail->>'path' LIKE $1 ORDER BY seq",
      [`/v1/partner/licences/${licence.id}/%`],
    )
    expect(calls.map((c) => [c.detail.path, c.detail.partner, c.detail.status])).toEqual([
      [`/v1/partner/licences/${licence.id}/pdf`, '360700', 200],
      [`/v1/partner/licences/${licence.id}/credential`, '360700', 200],
    ])

    // The holder sees the collection among the uses of the licence at 龙岗.
    const uses = await pair.lg.db.query('SELECT user_kind, user_id, purpose, indication FROM licence_uses WHERE licence_id = $1', [licence.id])
    expect(uses).toEqual([{ user_kind: 'partner', user_id: '360700', purpose: '异地领证', indication: 'TOTAL_PASSED' }])

    const pdf = await pair.gz.request('GET', `/v1/applications/${id}/collection/pdf`)
    expect(pdf.status).toBe(200)
    expect(pdf.headers.get('content-type')).toBe('application/pdf')
    const bytes = new Uint8Array(await pdf.arrayBuffer())
    // Anyone at 赣州 can check what the window hands over.
    const verified = await (await pair.gz.request('POST', '/v1/verify', { body: bytes, headers: { 'content-type': 'application/pdf' }, token: null })).json()
    expect(verified).toMatchObject({ indication: 'TOTAL_PASSED', licence: { number: licence.number }, issuer: { regionCode: '440307' } })

    const handed = await pair.gz.request('POST', `/v1/applications/${id}/collection/hand-over`)
    expect(handed.status).toBe(200)
    expect((await handed.json()).collection).toMatchObject({ state: 'handed_over', handedOverAt: expect.any(String), handedOverBy: 'admin' })
    // Still downloadable after it was handed over; a second hand-over is refused.
    expect((await pair.gz.request('GET', `/v1/applications/${id}/collection/pdf`)).status).toBe(200)
    expect((await pair.gz.request('POST', `/v1/applications/${id}/collection/hand-over`)).status).toBe(409)
  })

  it('ends in the right state when events arrive out of order, and ignores them when they arrive again', async () => {
    const { id } = await forwardedToLonggang(pair)
    await lgDecides(pair, id, { action: 'accept' })
    await lgDecides(pair, id, { action: 'review' })
    const [accept, review] = await messagesAbout(pair.lg, id, 'application.event')
    const send = (message: typeof accept) => pair.lg.deps.partners.client.call('360700', { method: 'POST', path: '/v1/partner/events', body: JSON.parse(message!.body) })

    const late = await send(review)
    expect(late.status).toBe(200)
    expect(late.json()).toEqual({ applicationId: id, sequence: 3, status: 'in_review', duplicate: false })
    const early = await send(accept)
    expect(early.json()).toEqual({ applicationId: id, sequence: 2, status: 'in_review', duplicate: false })
    // The outbox delivers both again (their answers were lost, say): held once each, nothing changes.
    await pair.lg.outbox.drain()
    expect((await send(review)).json()).toEqual({ applicationId: id, sequence: 3, status: 'in_review', duplicate: true })

    const here = await viewAt(pair.gz, id)
    expect(here.status).toBe('in_review')
    expect(here.timeline.map(agreedPart)).toEqual((await viewAt(pair.lg, id)).timeline.map(agreedPart))
    const [row] = await pair.gz.db.query<{ n: number }>('SELECT count(*)::int AS n FROM application_events WHERE application_id = $1', [id])
    expect(row?.n).toBe(3)
  })
})

describe('the applicant at 赣州’s window on an application 龙岗 handles', () => {
  it('withdraws it: the request goes to 龙岗, which takes the step, and the status changes here when its event comes back', async () => {
    const { id } = await forwardedToLonggang(pair)
    const asked = await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'withdraw', reason: '申请人撤回' } })
    expect(asked.status).toBe(202)
    const body = await asked.json()
    expect(body).toMatchObject({ status: 'received', requestId: expect.any(String) })
    expect(body.messages.find((m: { id: string }) => m.id === body.requestId)).toMatchObject({ topic: 'application.decision-request', destination: 'partner:440307', state: 'pending' })

    await pair.gz.outbox.drain()
    const there = await viewAt(pair.lg, id)
    expect(there.status).toBe('withdrawn')
    expect(there.timeline[1]).toMatchObject({ sequence: 2, action: 'withdraw', reason: '申请人撤回', actor: 'partner:360700 admin' })
    await pair.lg.outbox.drain()
    expect((await viewAt(pair.gz, id)).status).toBe('withdrawn')
  })

  it('brings what 龙岗 asked for: request-more reaches 赣州 with what is missing, the supplement goes to 龙岗, and it resumes', async () => {
    const { id } = await forwardedToLonggang(pair)
    await lgDecides(pair, id, { action: 'accept' })
    await lgDecides(pair, id, { action: 'request-more', missing: ['住所使用证明（新版）'] })
    await pair.lg.outbox.drain()
    const waiting = await viewAt(pair.gz, id)
    expect(waiting.status).toBe('more_requested')
    expect(waiting.timeline[2].detail).toEqual({ missing: ['住所使用证明（新版）'] })

    const proof = attachment('premises-proof', '住所使用证明（新版）')
    await uploadAttachments(pair.gz, [proof])
    const asked = await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'supplement', attachments: [proof] } })
    expect(asked.status).toBe(202)
    const { requestId } = await asked.json()
    await pair.gz.outbox.drain()
    const there = await viewAt(pair.lg, id)
    expect(there).toMatchObject({ status: 'accepted' })
    // The new document stays at 赣州's window until 龙岗's outbox fetches it from there.
    expect(there.attachments).toContainEqual({ ...proof, held: false })
    await pair.lg.outbox.drain()
    expect((await viewAt(pair.lg, id)).attachments).toContainEqual({ ...proof, held: true })
    const here = await viewAt(pair.gz, id)
    expect(here.status).toBe('accepted')
    expect(here.timeline.map(agreedPart)).toEqual(there.timeline.map(agreedPart))
    // 龙岗's step names 赣州's request, so 赣州's copy takes up the documents it sent.
    expect(here.timeline[3]).toMatchObject({ action: 'supplement', detail: { request: requestId, attachments: [proof] } })
    expect(here.attachments.map(({ held: _, ...ref }: { held: boolean }) => ref)).toEqual(there.attachments.map(({ held: _, ...ref }: { held: boolean }) => ref))
    expect(here.attachments).toContainEqual({ ...proof, held: true })
    await lgDecides(pair, id, { action: 'review' })
    await lgDecides(pair, id, approval(442))
    await pair.lg.outbox.drain()
    expect((await viewAt(pair.gz, id)).status).toBe('approved')
  })

  it('a request delivered twice is taken once', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { requestId } = await (await pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: { action: 'withdraw', reason: '重复投递' } })).json()
    const [message] = (await messagesAbout(pair.gz, id, 'application.decision-request')).filter((m) => m.id === requestId)
    const send = () => pair.gz.deps.partners.client.call('440307', { method: 'POST', path: `/v1/applications/${id}/decisions`.replace('/v1/', '/v1/partner/'), body: JSON.parse(message!.body) })
    const first = await send()
    expect(first.status).toBe(200)
    const again = await send()
    expect(again.status).toBe(200)
    expect(again.json()).toEqual(first.json())
    expect((await viewAt(pair.lg, id)).timeline).toHaveLength(2)
  })
})
