import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachment, establishmentForLonggang, uploadAttachments } from '../support/applications'
import { forwardedToLonggang, lgApproves, lgDecides, messagesAbout, viewAt } from '../support/cross-region'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

const newProof = attachment('premises-proof', '住所使用证明（新版）')
const horoscope = attachment('horoscope')

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
  await uploadAttachments(pair.gz, [...establishmentForLonggang().attachments, newProof, horoscope])
})
afterAll(() => pair.close())

const decideAtGz = (id: string, decision: Record<string, unknown>) => pair.gz.request('POST', `/v1/applications/${id}/decisions`, { json: decision })

describe('steps 赣州’s window cannot take on an application 龙岗 handles', () => {
  it('refuses every decision but withdraw and supplement with a 409, and sends nothing', async () => {
    const { id } = await forwardedToLonggang(pair)
    for (const decision of [{ action: 'accept' }, { action: 'review' }, { action: 'reject', reason: '不予受理' }, { action: 'request-more', missing: ['x'] }]) {
      const answer = await decideAtGz(id, decision)
      expect(answer.status, decision.action).toBe(409)
      expect((await answer.json()).code).toBe('invalid_transition')
    }
    expect((await messagesAbout(pair.gz, id)).map((m) => m.topic)).toEqual(['application.forward'])
  })

  it('refuses what its copy of the timeline already rules out: a supplement nothing was asked for, a withdrawal after approval', async () => {
    const { id } = await forwardedToLonggang(pair)
    const supplement = await decideAtGz(id, { action: 'supplement', attachments: [newProof] })
    expect(supplement.status).toBe(409)
    await lgApproves(pair, id, 460)
    await pair.lg.outbox.drain()
    const withdrawal = await decideAtGz(id, { action: 'withdraw', reason: '不办了' })
    expect(withdrawal.status).toBe(409)
    expect((await withdrawal.json()).detail).toContain('approved')
    expect((await messagesAbout(pair.gz, id, 'application.decision-request'))).toEqual([])
  })

  it('checks a supplement as 龙岗 would: an unknown attachment is a 422 naming it, and nothing is sent', async () => {
    const { id } = await forwardedToLonggang(pair)
    await lgDecides(pair, id, { action: 'request-more', missing: ['章程'] })
    await pair.lg.outbox.drain()
    const answer = await decideAtGz(id, { action: 'supplement', attachments: [horoscope] })
    expect(answer.status).toBe(422)
    expect(await answer.json()).toMatchObject({ code: 'unknown_attachment', errors: [{ pointer: '/attachments/0/key' }] })
    expect(await messagesAbout(pair.gz, id, 'application.decision-request')).toEqual([])
  })

  it('shows a request 龙岗 refused because its copy was behind: the message is abandoned with 龙岗’s reason, and the status follows 龙岗', async () => {
    const { id } = await forwardedToLonggang(pair)
    // 龙岗 approves, but its events have not reached 赣州 yet.
    await lgApproves(pair, id, 461)
    const asked = await decideAtGz(id, { action: 'withdraw', reason: '申请人撤回' })
    expect(asked.status).toBe(202)
    const { requestId } = await asked.json()
    await pair.gz.outbox.drain()
    const refused = (await viewAt(pair.gz, id)).messages.find((m: { id: string }) => m.id === requestId)
    expect(refused).toMatchObject({ state: 'abandoned', lastError: expect.stringContaining('HTTP 409 invalid_transition') })
    await pair.lg.outbox.drain()
    expect((await viewAt(pair.gz, id)).status).toBe('approved')
    expect((await viewAt(pair.lg, id)).status).toBe('approved')
  })
})

describe('collecting the licence when 龙岗 cannot be reached', () => {
  it('waits, saying why, and collects it once 龙岗 is back', async () => {
    const { id } = await forwardedToLonggang(pair)
    await lgApproves(pair, id, 462)
    await pair.lg.outbox.drain()
    pair.setDown('lg.test', true)
    await pair.gz.outbox.drain()
    const waiting = (await viewAt(pair.gz, id)).collection
    expect(waiting).toMatchObject({ state: 'waiting', pdf: null, lastError: expect.stringContaining('lg.test is down') })
    expect((await pair.gz.request('POST', `/v1/applications/${id}/collection/hand-over`)).status).toBe(409)

    pair.setDown('lg.test', false)
    pair.advanceGz(5_000)
    await pair.gz.outbox.drain()
    expect((await viewAt(pair.gz, id)).collection).toMatchObject({ state: 'ready', lastError: null })
  })
})

describe('collection endpoints for an application with nothing to collect', () => {
  it('answer 404 collection_not_found', async () => {
    const created = await (await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang() })).json()
    for (const [method, path] of [
      ['GET', `/v1/applications/${created.id}/collection/pdf`],
      ['POST', `/v1/applications/${created.id}/collection/hand-over`],
      ['GET', `/v1/applications/${crypto.randomUUID()}/collection/pdf`],
    ] as const) {
      const answer = await pair.gz.request(method, path)
      expect(answer.status, path).toBe(404)
      expect((await answer.json()).code).toBe('collection_not_found')
    }
  })
})
