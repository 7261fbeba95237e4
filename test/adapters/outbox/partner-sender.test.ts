import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outboxWrites } from '../../../src/adapters/postgres/pg-outbox'
import { partnerSender } from '../../../src/adapters/outbox/partner-sender'
import { PartnerUnreachableError } from '../../../src/adapters/partner/fetch-text'
import type { PartnerAnswer } from '../../../src/adapters/partner/partner-client'
import { partnerCallMessage } from '../../../src/core/outbox/partner-message'
import type { OutboxMessage } from '../../../src/core/outbox/outbox'
import { createPartnerPair, registerBoth, type PartnerPair } from '../../support/partner-pair'

const message = (overrides: Partial<OutboxMessage> = {}): OutboxMessage => ({
  ...partnerCallMessage({ id: crypto.randomUUID(), topic: 'test', partner: '440307', method: 'POST', path: '/v1/partner/applications', body: { a: 1 } }),
  createdAt: new Date(),
  attempts: 1,
  ...overrides,
})

function answer(status: number, body?: unknown): PartnerAnswer {
  const bytes = new TextEncoder().encode(body === undefined ? '' : JSON.stringify(body))
  return { status, contentType: body === undefined ? '' : 'application/problem+json', body: bytes, json: <T>() => JSON.parse(new TextDecoder().decode(bytes)) as T }
}

describe('partnerSender with a stand-in client', () => {
  it('calls the partner named by the destination with the stored method, path and body', async () => {
    const calls: unknown[] = []
    const send = partnerSender({ call: async (code, options) => (calls.push({ code, ...options }), answer(201)) })
    expect(await send(message())).toEqual({ outcome: 'delivered', status: 201 })
    expect(calls).toEqual([{ code: '440307', method: 'POST', path: '/v1/partner/applications', body: { a: 1 }, timeoutMs: 10_000 }])
  })

  it('retries when the partner cannot be reached, answers 5xx, or refuses for now (429, 401)', async () => {
    const unreachable = partnerSender({ call: () => Promise.reject(new PartnerUnreachableError('lg.test is down')) })
    expect(await unreachable(message())).toMatchObject({ outcome: 'retry', error: expect.stringContaining('lg.test is down') })
    for (const status of [500, 503, 429, 401]) {
      const send = partnerSender({ call: async () => answer(status, { code: `code_${status}` }) })
      expect(await send(message())).toMatchObject({ outcome: 'retry', error: expect.stringContaining(`HTTP ${status} code_${status}`) })
    }
  })

  it('abandons on any other 4xx, recording the problem code and detail', async () => {
    const send = partnerSender({ call: async () => answer(403, { code: 'outside_agreement', detail: 'not food-business' }) })
    expect(await send(message())).toEqual({ outcome: 'abandon', error: 'POST /v1/partner/applications to 440307: HTTP 403 outside_agreement: not food-business' })
  })

  it('abandons a message that is not a partner API call, without calling anyone', async () => {
    let called = false
    const send = partnerSender({ call: async () => ((called = true), answer(200)) })
    expect(await send(message({ destination: 'partner:evil' }))).toMatchObject({ outcome: 'abandon' })
    expect(await send(message({ headers: { 'tongban-partner-path': '/v1/admin/partners' } }))).toMatchObject({ outcome: 'abandon' })
    expect(called).toBe(false)
  })
})

describe('partner: messages through the real dispatcher between two regions', () => {
  let pair: PartnerPair
  beforeAll(async () => {
    pair = await createPartnerPair()
    await registerBoth(pair)
  })
  afterAll(() => pair.close())

  async function enqueue(body: unknown) {
    const id = crypto.randomUUID()
    await pair.gz.db.transaction((tx) =>
      outboxWrites(tx, () => new Date()).enqueueMessage(partnerCallMessage({ id, topic: 'test', partner: '440307', method: 'POST', path: '/v1/partner/verify', body })),
    )
    return id
  }
  const row = async (id: string) =>
    (await pair.gz.db.query<{ state: string; attempts: number; last_error: string | null }>('SELECT state, attempts, last_error FROM outbox_messages WHERE id = $1', [id]))[0]

  it('keeps a message for a partner that is down, and abandons one the partner refuses with a 4xx, with its code', async () => {
    const id = await enqueue({ number: '1' })
    pair.setDown('lg.test', true)
    await pair.gz.outbox.drain()
    expect(await row(id)).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.stringContaining('lg.test is down') })

    // Up again, with no agreement between the regions: 龙岗's door refuses it for good.
    pair.setDown('lg.test', false)
    // A minute back: the database keeps microseconds, the clock milliseconds, so `now()` can be just after the clock's now.
    await pair.gz.db.query(`UPDATE outbox_messages SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [id])
    await pair.gz.outbox.drain()
    expect(await row(id)).toMatchObject({ state: 'abandoned', attempts: 2, last_error: expect.stringContaining('HTTP 403 no_active_agreement') })
  })
})
