import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrations'
import { createPgSupervisionStore } from '../../../src/adapters/postgres/pg-supervision-store'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import { registerConfiguredSystems, registerSupervisionSystem } from '../../../src/core/supervision/supervision-registry'
import { createTestDatabase, databaseKind } from '../../support/database'
import { supervisionKeyPair } from '../../support/supervision-receiver'

let db: SqlClient
const clock = { now: () => new Date('2026-12-04T08:00:00Z') }

beforeEach(async () => {
  db = await createTestDatabase()
  await migrate(db)
})
afterEach(() => db.close())

describe(`supervision systems from SUPERVISION_SYSTEMS (${databaseKind})`, () => {
  it('are registered at start, and a later start with a new webhook or key updates the same system by name', async () => {
    const systems = createPgSupervisionStore(db)
    const deps = { systems, clock, newId: () => crypto.randomUUID() }
    const first = await supervisionKeyPair()
    await registerConfiguredSystems(deps, [{ name: '龙岗区市场监督管理局', webhookUrl: 'https://jg.example/a', publicKey: first.publicJwk as Record<string, unknown> }])
    const [registered] = await systems.list()
    expect(registered).toMatchObject({ name: '龙岗区市场监督管理局', webhookUrl: 'https://jg.example/a', keyid: first.signingKey.keyid })

    const second = await supervisionKeyPair()
    await registerConfiguredSystems(deps, [{ name: '龙岗区市场监督管理局', webhookUrl: 'https://jg.example/b', publicKey: second.publicJwk as Record<string, unknown> }])
    const after = await systems.list()
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({ id: registered?.id, webhookUrl: 'https://jg.example/b', keyid: second.signingKey.keyid })
    expect(await systems.findByKeyid(first.signingKey.keyid)).toBeUndefined()
  })

  it('refuse a private key, and a key another system is registered with, naming the problem', async () => {
    const systems = createPgSupervisionStore(db)
    const deps = { systems, clock, newId: () => crypto.randomUUID() }
    const keys = await supervisionKeyPair()
    await expect(registerConfiguredSystems(deps, [{ name: 'a', webhookUrl: 'https://a.example', publicKey: keys.privateJwk as Record<string, unknown> }])).rejects.toMatchObject({ code: 'invalid_supervision_key' })
    await registerSupervisionSystem(deps, { name: 'by-api', webhookUrl: 'https://b.example', publicKey: keys.publicJwk as Record<string, unknown> })
    await expect(registerConfiguredSystems(deps, [{ name: 'other', webhookUrl: 'https://c.example', publicKey: keys.publicJwk as Record<string, unknown> }])).rejects.toMatchObject({ code: 'supervision_key_in_use' })
    expect((await systems.list()).map((s) => s.name)).toEqual(['by-api'])
  })
})
