import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPgOutboxStore } from '../../../src/adapters/postgres/pg-outbox'
import { outboxWrites } from '../../../src/adapters/postgres/pg-outbox'
import { migrate } from '../../../src/adapters/postgres/migrations'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import { OutboxDispatcher } from '../../../src/core/outbox/dispatcher'
import type { OutboxMessage, Sender, SendOutcome } from '../../../src/core/outbox/outbox'
import { createTestDatabase, databaseKind } from '../../support/database'

let db: SqlClient
let now: Date
const clock = { now: () => now }
const quiet = { warn: () => {}, error: () => {} }

beforeEach(async () => {
  db = await createTestDatabase()
  await migrate(db)
  now = new Date('2026-12-04T08:00:00Z')
})
afterEach(() => db.close())

async function enqueue(n: number, destination = 'test:a') {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID()
    ids.push(id)
    await db.transaction((tx) => outboxWrites(tx, clock.now).enqueueMessage({ id, topic: 'test', destination, headers: { 'x-n': String(i) }, body: `message ${i}` }))
  }
  return ids
}

function dispatcher(sender: Sender, options: { batchSize?: number; leaseMs?: number } = {}) {
  return new OutboxDispatcher({
    store: createPgOutboxStore(db),
    senders: { test: sender },
    clock,
    backoff: { baseMs: 1_000, capMs: 8_000 },
    batchSize: options.batchSize ?? 4,
    leaseMs: options.leaseMs ?? 60_000,
    log: quiet,
    random: () => 0.999999,
  })
}

async function rows() {
  return db.query<{ id: string; state: string; attempts: number; next_attempt_at: Date; last_error: string | null }>('SELECT id, state, attempts, next_attempt_at, last_error FROM outbox_messages ORDER BY position')
}

describe(`the outbox dispatcher (${databaseKind})`, () => {
  it('sends every due message once, oldest first, in rounds of the batch size, with its id, headers and body', async () => {
    const ids = await enqueue(10)
    const sent: OutboxMessage[] = []
    const attempted = await dispatcher(async (m) => (sent.push(m), { outcome: 'delivered' })).drain()
    expect(attempted).toBe(10)
    expect(sent.map((m) => m.id)).toEqual(ids)
    expect(sent[3]).toMatchObject({ topic: 'test', destination: 'test:a', headers: { 'x-n': '3' }, body: 'message 3', attempts: 1 })
    expect((await rows()).every((r) => r.state === 'delivered')).toBe(true)
    expect(await dispatcher(async () => expect.fail('nothing is due')).drain()).toBe(0)
  })

  it('a message rolled back with its transaction is never sent', async () => {
    await db
      .transaction(async (tx) => {
        await outboxWrites(tx, clock.now).enqueueMessage({ id: crypto.randomUUID(), topic: 'test', destination: 'test:a', headers: {}, body: 'x' })
        throw new Error('the change failed')
      })
      .catch(() => undefined)
    expect(await rows()).toEqual([])
  })

  it('retries a failure with doubling, capped delays, keeping the id, until it is delivered', async () => {
    const [id] = await enqueue(1)
    const outcomes: SendOutcome[] = [...Array(6).fill({ outcome: 'retry', error: 'HTTP 503' }), { outcome: 'delivered' }]
    const seen: string[] = []
    const d = dispatcher(async (m) => (seen.push(m.id), outcomes.shift() as SendOutcome))
    const delays: number[] = []
    for (let round = 0; round < 7; round++) {
      expect(await d.drain()).toBe(1)
      const [row] = await rows()
      if (row?.state === 'delivered') break
      expect(row?.last_error).toBe('HTTP 503')
      delays.push(new Date(row!.next_attempt_at).getTime() - now.getTime())
      // Not due before its delay has passed.
      expect(await d.drain()).toBe(0)
      now = new Date(new Date(row!.next_attempt_at).getTime())
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000])
    expect(seen).toEqual(Array(7).fill(id))
    expect(await rows()).toMatchObject([{ state: 'delivered', attempts: 7, last_error: null }])
  })

  it('a sender that throws is a retry; a destination without a sender, or one the sender abandons, is abandoned', async () => {
    await enqueue(1, 'test:throws')
    await enqueue(1, 'test:gone')
    await enqueue(1, 'nowhere:x')
    await dispatcher(async (m) => {
      if (m.destination === 'test:throws') throw new Error('socket hang up')
      return { outcome: 'abandon', error: 'no such system' }
    }).drain()
    expect((await rows()).map((r) => [r.state, r.last_error])).toEqual([
      ['pending', 'socket hang up'],
      ['abandoned', 'no such system'],
      ['abandoned', 'no sender for destination nowhere:x'],
    ])
  })

  it('a message claimed by a dispatcher that died mid-send goes out again once its lease runs out', async () => {
    const [id] = await enqueue(1)
    const store = createPgOutboxStore(db)
    // The crashed process: it claimed the message and never recorded an outcome.
    expect((await store.claimDue(now, 10, new Date(now.getTime() + 60_000))).map((m) => m.id)).toEqual([id])
    const sent: OutboxMessage[] = []
    const d = dispatcher(async (m) => (sent.push(m), { outcome: 'delivered' }))
    expect(await d.drain()).toBe(0)
    now = new Date(now.getTime() + 60_000)
    expect(await d.drain()).toBe(1)
    expect(sent).toMatchObject([{ id, attempts: 2 }])
  })

  it('two dispatchers on one database never claim the same message', async () => {
    await enqueue(24)
    const sent: string[] = []
    const slow: Sender = async (m) => {
      sent.push(m.id)
      await new Promise((resolve) => setTimeout(resolve, 5))
      return { outcome: 'delivered' }
    }
    await Promise.all([dispatcher(slow).drain(), dispatcher(slow).drain(), dispatcher(slow).drain()])
    expect(sent).toHaveLength(24)
    expect(new Set(sent).size).toBe(24)
  })

  it('wake while a round runs asks for another round, so a message written meanwhile is not left for the next tick', async () => {
    const [early] = await enqueue(1)
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const sent: string[] = []
    const d = dispatcher(async (m) => {
      sent.push(m.id)
      if (sent.length === 1) await gate
      return { outcome: 'delivered' }
    })
    const first = d.drain()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const [late] = await enqueue(1)
    const second = d.drain()
    // One round in flight: the second call joins it rather than starting a round of its own.
    expect(second).toBe(first)
    release()
    expect(await first).toBe(2)
    expect(sent).toEqual([early, late])
  })
})
