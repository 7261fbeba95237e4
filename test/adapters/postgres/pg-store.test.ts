import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIGRATIONS, migrate } from '../../../src/adapters/postgres/migrations'
import { createPgStore } from '../../../src/adapters/postgres/pg-store'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import type { Licence } from '../../../src/core/licence/licence'
import type { Store } from '../../../src/core/ports'
import { createTestDatabase, databaseKind } from '../../support/database'
import { testUscc } from '../../support/fixtures'

/**
 * The store against a real database (PGlite, or PostgreSQL with DATABASE_URL): what goes in comes
 * back out with the same types, a failed transaction leaves nothing, and the concurrency the
 * service relies on (one serial per issuance, one claim per Idempotency-Key) holds.
 */

let db: SqlClient
let store: Store
let serial = 0

beforeAll(async () => {
  db = await createTestDatabase()
  await migrate(db)
  store = createPgStore(db)
})
afterAll(() => db.close())

function licence(overrides: Partial<Licence> = {}): Licence {
  serial += 1
  return {
    id: crypto.randomUUID(),
    number: `1.2.156.3005.2.11100000000013338W001.11360700MB00000015.${3607000000000000 + serial}.001.X`,
    serial: String(3607000000000000 + serial),
    version: 1,
    typeKey: 'business-licence',
    typeCode: '11100000000013338W001',
    holder: { kind: 'enterprise', uscc: testUscc(serial), name: '赣州通办科技有限公司 😀 "quoted" \\ back\\slash' },
    fields: { nested: { list: [1, 2.5, null, true, '字'], empty: {} }, 'odd/key~': 'x', unicode: '\u2028\u00e9' },
    validFrom: new Date('2026-01-05T00:00:00.000Z'),
    validUntil: new Date('2046-01-04T15:59:59.123Z'),
    status: 'active',
    statusReason: null,
    statusEntries: [
      { purpose: 'revocation', listId: 'r1', index: serial },
      { purpose: 'suspension', listId: 's1', index: serial },
    ],
    issuedAt: new Date('2026-01-05T08:30:00.456Z'),
    credential: 'eyJ.eyJ.sig',
    supersedes: null,
    ...overrides,
  }
}

async function ensureLists() {
  await db.query("INSERT INTO status_lists (id, purpose, size) VALUES ('r1', 'revocation', 1000), ('s1', 'suspension', 1000) ON CONFLICT DO NOTHING")
}

describe(`migrations (${databaseKind})`, () => {
  it('are applied once: a second run applies nothing', async () => {
    expect(await migrate(db)).toEqual([])
    const applied = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')
    // The array is in landing order (011_holders landed before 008_agreements); the ids are what count.
    expect(applied.map((row) => row.id)).toEqual(MIGRATIONS.map((m) => m.id).sort())
  })

  it('two processes starting together on a fresh database apply each migration once', async () => {
    const fresh = await createTestDatabase()
    try {
      const results = await Promise.all([migrate(fresh), migrate(fresh), migrate(fresh)])
      expect(results.flat().sort()).toEqual(MIGRATIONS.map((m) => m.id).sort())
      expect(await fresh.query('SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: MIGRATIONS.length }])
    } finally {
      await fresh.close()
    }
  })
})

describe(`pg-store (${databaseKind})`, () => {
  beforeAll(ensureLists)

  it('gives back the licence it stored, JSON as objects and instants to the millisecond', async () => {
    const stored = licence()
    await store.transaction((tx) => tx.insertLicence(stored))
    expect(await store.getLicence(stored.id)).toEqual(stored)
    const [types] = await db.query('SELECT jsonb_typeof(holder) AS holder, jsonb_typeof(fields) AS fields FROM licences WHERE id = $1', [stored.id])
    expect(types).toEqual({ holder: 'object', fields: 'object' })
    const [queried] = await db.query<{ name: string }>("SELECT holder->>'name' AS name FROM licences WHERE id = $1", [stored.id])
    expect(queried?.name).toBe(stored.holder.name)
  })

  it('finds no licence for ids that are not UUIDs, in or out of a transaction', async () => {
    for (const id of ['abc', '', "1' OR '1'='1", '\u0000', `${crypto.randomUUID()}x`]) {
      expect(await store.getLicence(id)).toBeUndefined()
      expect(await store.transaction((tx) => tx.lockLicence(id))).toBeUndefined()
    }
    expect(await store.getLicence(crypto.randomUUID())).toBeUndefined()
  })

  it('rolls a failed transaction back whole: sequence, slot, licence and event', async () => {
    const before = await db.query('SELECT (SELECT count(*) FROM licences)::int AS l, (SELECT count(*) FROM licence_events)::int AS e, (SELECT coalesce(sum(value), 0) FROM sequences)::int AS s, (SELECT coalesce(sum(used), 0) FROM status_lists)::int AS u')
    const doomed = licence()
    await expect(
      store.transaction(async (tx) => {
        await tx.nextSequence('licence_serial')
        await tx.allocateStatusSlot('revocation', 1000)
        await tx.insertLicence(doomed)
        await tx.insertLicenceEvent({ licenceId: doomed.id, action: 'issued', reason: null, actor: 'test', at: new Date() })
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await store.getLicence(doomed.id)).toBeUndefined()
    expect(await db.query('SELECT (SELECT count(*) FROM licences)::int AS l, (SELECT count(*) FROM licence_events)::int AS e, (SELECT coalesce(sum(value), 0) FROM sequences)::int AS s, (SELECT coalesce(sum(used), 0) FROM status_lists)::int AS u')).toEqual(before)
  })

  it('lets a constraint violation through as an error (never swallowed), and rolls back', async () => {
    const first = licence()
    await store.transaction((tx) => tx.insertLicence(first))
    const clash = licence({ number: first.number })
    await expect(store.transaction((tx) => tx.insertLicence(clash))).rejects.toThrow()
    expect(await store.getLicence(clash.id)).toBeUndefined()
    const sameSlot = licence({ statusEntries: first.statusEntries })
    await expect(store.transaction((tx) => tx.insertLicence(sameSlot))).rejects.toThrow()
  })

  it('counts sequences per name from 1', async () => {
    const values = await store.transaction(async (tx) => [await tx.nextSequence('a'), await tx.nextSequence('a'), await tx.nextSequence('b'), await tx.nextSequence('a')])
    expect(values).toEqual([1, 2, 1, 3])
  })

  it('fills a status list to its size, then opens the next one, per purpose', async () => {
    const fresh = await createTestDatabase()
    try {
      await migrate(fresh)
      const s = createPgStore(fresh)
      const slots = await s.transaction(async (tx) => {
        const out = []
        for (let i = 0; i < 5; i++) out.push(await tx.allocateStatusSlot('revocation', 2))
        out.push(await tx.allocateStatusSlot('suspension', 2))
        return out
      })
      expect(slots).toEqual([
        { listId: 'r1', index: 0 },
        { listId: 'r1', index: 1 },
        { listId: 'r2', index: 0 },
        { listId: 'r2', index: 1 },
        { listId: 'r3', index: 0 },
        { listId: 's1', index: 0 },
      ])
      expect(await s.listStatusLists()).toEqual([
        { id: 'r1', purpose: 'revocation', size: 2, used: 2 },
        { id: 'r2', purpose: 'revocation', size: 2, used: 2 },
        { id: 'r3', purpose: 'revocation', size: 2, used: 1 },
        { id: 's1', purpose: 'suspension', size: 2, used: 1 },
      ])
    } finally {
      await fresh.close()
    }
  })

  it('sets status bits from the stored statuses: revoked and superseded in revocation lists, suspended in suspension lists', async () => {
    const fresh = await createTestDatabase()
    try {
      await migrate(fresh)
      const s = createPgStore(fresh)
      await fresh.query("INSERT INTO status_lists (id, purpose, size) VALUES ('r1', 'revocation', 100), ('s1', 'suspension', 100)")
      const statuses = ['active', 'revoked', 'suspended', 'superseded'] as const
      const made = statuses.map((status, i) => licence({ status, statusEntries: [{ purpose: 'revocation', listId: 'r1', index: 10 + i }, { purpose: 'suspension', listId: 's1', index: 20 + i }] }))
      await s.transaction(async (tx) => {
        for (const l of made) await tx.insertLicence(l)
      })
      expect((await s.setStatusIndices('r1')).sort()).toEqual([11, 13])
      expect(await s.setStatusIndices('s1')).toEqual([22])
      await s.transaction((tx) => tx.updateLicenceStatus(made[2]?.id as string, 'active', null))
      expect(await s.setStatusIndices('s1')).toEqual([])
    } finally {
      await fresh.close()
    }
  })

  it('keeps events in the order they happened', async () => {
    const l = licence()
    await store.transaction(async (tx) => {
      await tx.insertLicence(l)
      for (const action of ['issued', 'suspended', 'reinstated', 'revoked'] as const) {
        await tx.insertLicenceEvent({ licenceId: l.id, action, reason: action === 'issued' ? null : `${action} 原因`, actor: 'admin', at: new Date('2026-02-01T00:00:00Z') })
      }
    })
    const events = await store.listLicenceEvents(l.id)
    expect(events.map((e) => [e.action, e.reason])).toEqual([
      ['issued', null],
      ['suspended', 'suspended 原因'],
      ['reinstated', 'reinstated 原因'],
      ['revoked', 'revoked 原因'],
    ])
    expect(events[0]?.at).toEqual(new Date('2026-02-01T00:00:00Z'))
  })

  it('claims an Idempotency-Key once and gives back the stored result as JSON', async () => {
    expect(await store.transaction((tx) => tx.claimIdempotencyKey('scope', 'k1', 'hash-1'))).toBe('claimed')
    await store.transaction((tx) => tx.completeIdempotencyKey('scope', 'k1', 201, { id: 'abc', nested: { n: 1 } }))
    expect(await store.transaction((tx) => tx.claimIdempotencyKey('scope', 'k1', 'hash-2'))).toEqual({ requestHash: 'hash-1', status: 201, body: { id: 'abc', nested: { n: 1 } } })
    expect(await store.transaction((tx) => tx.claimIdempotencyKey('other-scope', 'k1', 'hash-2'))).toBe('claimed')
  })

  it('a claim in a transaction that fails is released', async () => {
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.claimIdempotencyKey('scope', 'k-released', 'h')).toBe('claimed')
        throw new Error('signer down')
      }),
    ).rejects.toThrow('signer down')
    expect(await store.transaction((tx) => tx.claimIdempotencyKey('scope', 'k-released', 'h'))).toBe('claimed')
  })

  it('concurrent claims of one key: exactly one wins, the others see its completed result', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.transaction(async (tx) => {
          const claim = await tx.claimIdempotencyKey('race', 'one-key', 'h')
          if (claim !== 'claimed') return claim
          await tx.completeIdempotencyKey('race', 'one-key', 201, { winner: i })
          return 'claimed' as const
        }),
      ),
    )
    const winners = attempts.filter((a) => a === 'claimed')
    expect(winners).toHaveLength(1)
    const results = attempts.filter((a) => a !== 'claimed')
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1)
    expect(results[0]).toMatchObject({ requestHash: 'h', status: 201, body: { winner: expect.any(Number) } })
  })

  it('concurrent transactions draw distinct serials and distinct status slots', async () => {
    const drawn = await Promise.all(
      Array.from({ length: 12 }, () =>
        store.transaction(async (tx) => ({ serial: await tx.nextSequence('race_serial'), slot: await tx.allocateStatusSlot('suspension', 131_072) })),
      ),
    )
    expect(drawn.map((d) => d.serial).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    expect(new Set(drawn.map((d) => `${d.slot.listId}:${d.slot.index}`)).size).toBe(12)
  })

  it('keeps the newest trust list: an older or equal sequence does not replace it', async () => {
    const state = (sequence: number) => ({ sequence, contentHash: `h${sequence}`, jws: `jws${sequence}`, validUntil: new Date('2026-12-01T00:00:00Z') })
    expect(await store.saveTrustListState(state(5))).toBe(true)
    expect(await store.saveTrustListState(state(4))).toBe(false)
    expect(await store.saveTrustListState(state(5))).toBe(false)
    expect(await store.getTrustListState()).toEqual(state(5))
    expect(await store.saveTrustListState(state(6))).toBe(true)
    expect((await store.getTrustListState())?.sequence).toBe(6)
  })
})
