import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrations'
import { appendInTransaction, createPgAuditLog } from '../../../src/adapters/postgres/pg-audit-log'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import { auditLog } from '../../../src/core/audit/audit-log'
import { createTestDatabase } from '../../support/database'

let db: SqlClient
beforeAll(async () => {
  db = await createTestDatabase()
  await migrate(db)
})
afterAll(() => db.close())

describe('the audit log in the database', () => {
  it('keeps one intact chain when appends race: concurrent ones, a second writer, and appends inside other transactions', async () => {
    const first = createPgAuditLog(db)
    const second = createPgAuditLog(db)
    const at = new Date()
    const appended = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => first.append('test', { writer: 'first', i }, at)),
      ...Array.from({ length: 20 }, (_, i) => second.append('test', { writer: 'second', i }, at)),
      ...Array.from({ length: 5 }, (_, i) => db.transaction((tx) => appendInTransaction(tx, 'test', { writer: 'transaction', i }, at))),
    ])
    expect(new Set(appended.map((entry) => entry.seq)).size).toBe(65)
    const verdict = await auditLog(first)
    expect(verdict).toMatchObject({ intact: true, size: 65 })
    const stored = await first.entries(1, 100)
    expect(stored.filter((entry) => entry.detail.writer === 'first').map((entry) => entry.detail.i)).toEqual(Array.from({ length: 40 }, (_, i) => i))
  })

  it('an entry appended in a transaction that rolls back leaves no trace and no gap', async () => {
    const log = createPgAuditLog(db)
    const before = await log.head()
    await expect(
      db.transaction(async (tx) => {
        await appendInTransaction(tx, 'test', { doomed: true }, new Date())
        throw new Error('the change it recorded failed')
      }),
    ).rejects.toThrow(/failed/)
    expect(await log.head()).toEqual(before)
    const next = await log.append('test', { after: 'rollback' }, new Date())
    expect(next.seq).toBe(before.size + 1)
    expect(await auditLog(log)).toMatchObject({ intact: true })
  })

  it('commits a write that goes with an entry in its statement, batched with plain appends; a failed write takes its batch with it', async () => {
    const log = createPgAuditLog(db)
    const nonce = (name: string) => [{ text: 'INSERT INTO partner_nonces (region, nonce, expires_at) VALUES ($1, $2, $3)', params: ['360700', name, new Date(Date.now() + 60_000)] }]
    const at = new Date()
    const written = await Promise.all([
      log.append('test', { plain: 1 }, at),
      log.appendWith('test', { with: 'a' }, at, nonce('with-entry-a')),
      log.append('test', { plain: 2 }, at),
      log.appendWith('test', { with: 'b' }, at, nonce('with-entry-b')),
    ])
    const kept = await db.query<{ nonce: string }>("SELECT nonce FROM partner_nonces WHERE nonce LIKE 'with-entry-%' ORDER BY nonce")
    expect(kept.map((row) => row.nonce)).toEqual(['with-entry-a', 'with-entry-b'])
    expect(written.map((entry) => entry.seq)).toEqual(Array.from({ length: 4 }, (_, i) => written[0]!.seq + i))

    const before = await log.head()
    await expect(log.appendWith('test', { with: 'a again' }, new Date(), nonce('with-entry-a'))).rejects.toThrow()
    expect(await log.head()).toEqual(before)
    expect(await auditLog(log)).toMatchObject({ intact: true, size: before.size })
  })
})
