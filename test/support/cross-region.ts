import { expect } from 'vitest'
import { establishmentForLonggang, uploadAttachments } from './applications'
import { testUscc } from './fixtures'
import type { PartnerPair } from './partner-pair'

/**
 * A step of a timeline, as both regions must agree on it. The actor differs (the accepting
 * region names the handling region too), and so does the time of the first step: each region
 * records when the application reached it, at the window or by the forward.
 */
export const agreedPart = (event: Record<string, unknown>) => ({ sequence: event.sequence, action: event.action, from: event.from, to: event.to, reason: event.reason, ...(event.sequence === 1 ? {} : { at: event.at }) })

/**
 * An application accepted at 赣州's window for 龙岗 (its documents uploaded there first),
 * delivered to 龙岗 by 赣州's outbox, and its documents fetched by 龙岗's.
 */
export async function forwardedToLonggang(pair: PartnerPair, overrides: Record<string, unknown> = {}): Promise<{ id: string; actor: string }> {
  const request = establishmentForLonggang(overrides)
  await uploadAttachments(pair.gz, request.attachments)
  const created = await pair.gz.request('POST', '/v1/applications', { json: request })
  expect(created.status).toBe(201)
  const application = await created.json()
  await pair.gz.outbox.drain()
  await pair.lg.outbox.drain()
  const there = await viewAt(pair.lg, application.id)
  expect(there.attachments.map((a: { held: boolean }) => a.held)).toEqual(request.attachments.map(() => true))
  return { id: application.id, actor: application.timeline[0].actor }
}

/** 龙岗's staff take a decision; it must be taken. */
export async function lgDecides(pair: PartnerPair, id: string, decision: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answer = await pair.lg.request('POST', `/v1/applications/${id}/decisions`, { json: decision })
  expect(answer.status, JSON.stringify(await answer.clone().json())).toBe(200)
  return answer.json()
}

export const approval = (n = 440) => ({
  action: 'approve',
  licence: { holder: { kind: 'enterprise', uscc: testUscc(n), name: `深圳龙岗通办${n}科技有限公司` }, fields: { establishedOn: '2026-12-04' }, validUntil: '2056-12-03' },
})

/** 龙岗 accepts, reviews and approves; the answer of the approval, with the licence it issued. */
export async function lgApproves(pair: PartnerPair, id: string, n = 440): Promise<{ licence: { id: string; number: string } }> {
  await lgDecides(pair, id, { action: 'accept' })
  await lgDecides(pair, id, { action: 'review' })
  const approved = await lgDecides(pair, id, approval(n))
  return { licence: approved.issuedLicence as { id: string; number: string } }
}

export async function viewAt(region: PartnerPair['gz'], id: string) {
  const answer = await region.request('GET', `/v1/applications/${id}`)
  expect(answer.status).toBe(200)
  return answer.json()
}

export interface OutboxRow {
  id: string
  topic: string
  destination: string
  headers: Record<string, string>
  body: string
  state: string
  attempts: number
  last_error: string | null
}

/** The outbox messages of a region about one application, oldest first. */
export async function messagesAbout(region: PartnerPair['gz'], id: string, topic?: string): Promise<OutboxRow[]> {
  return region.db.query<OutboxRow>(`SELECT * FROM outbox_messages WHERE subject = $1 ${topic ? 'AND topic = $2' : ''} ORDER BY position`, topic ? [id, topic] : [id])
}
