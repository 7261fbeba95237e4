import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrations'
import { createPgPartnerStore } from '../../../src/adapters/postgres/pg-partner-store'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import { createTestDatabase } from '../../support/database'

let db: SqlClient
beforeAll(async () => {
  db = await createTestDatabase()
  await migrate(db)
})
afterAll(() => db.close())

describe('nonce claims in the database', () => {
  const now = new Date()
  const expiresAt = new Date(now.getTime() + 90_000)

  it('claims a nonce once per region, whichever way it is claimed', async () => {
    const store = createPgPartnerStore(db)
    const later = store.claimsFlushedWithTheRecord
    expect(await later.claimNonce('360700', 'nonce-claimed-later-0001', expiresAt, now)).toBe(true)
    expect(await later.claimNonce('360700', 'nonce-claimed-later-0001', expiresAt, now)).toBe(false)
    expect(await store.claimNonce('360700', 'nonce-claimed-later-0001', expiresAt, now)).toBe(false)
    expect(await later.claimNonce('440307', 'nonce-claimed-later-0001', expiresAt, now)).toBe(true)
    expect(await store.claimNonce('360700', 'nonce-claimed-at-once-01', expiresAt, now)).toBe(true)
    expect(await later.claimNonce('360700', 'nonce-claimed-at-once-01', expiresAt, now)).toBe(false)
  })

  it('leaves synchronous_commit as it was on every connection: only the claim’s own commit skips its flush', async () => {
    const later = createPgPartnerStore(db).claimsFlushedWithTheRecord
    await Promise.all(Array.from({ length: 8 }, (_, i) => later.claimNonce('360700', `nonce-setting-check-${i}`, expiresAt, now)))
    const settings = await Promise.all(Array.from({ length: 8 }, () => db.query<{ setting: string }>("SELECT current_setting('synchronous_commit') AS setting")))
    expect(new Set(settings.map(([row]) => row?.setting))).toEqual(new Set(['on']))
  })
})
