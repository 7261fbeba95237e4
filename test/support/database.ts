import { readFile } from 'node:fs/promises'
import postgres from 'postgres'
import { createPgliteClient } from '../../src/adapters/postgres/pglite-client'
import { createPostgresClient } from '../../src/adapters/postgres/postgres-client'
import type { SqlClient } from '../../src/adapters/postgres/sql-client'

/**
 * A fresh database for one test app: in-memory PGlite by default, or, when DATABASE_URL is set
 * (CI's second run), a schema of its own in that PostgreSQL, dropped again on close.
 */
export async function createTestDatabase(): Promise<SqlClient> {
  const url = process.env.DATABASE_URL
  if (!url) return createPgliteClient(undefined, await emptyCluster())
  const schema = `t_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(url, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE SCHEMA ${schema}`)
  const client = createPostgresClient({ url, schema, max: 4 })
  return {
    ...client,
    async close() {
      await client.close()
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}

let template: Promise<Blob | undefined> | undefined

/**
 * The empty cluster the global set-up dumped (test/support/pglite-template.ts), read once per test
 * file; none outside vitest (the benches), where initdb runs as usual.
 */
function emptyCluster(): Promise<Blob | undefined> {
  template ??= (async () => {
    const file = process.env.VITEST ? (await import('vitest')).inject('pgliteTemplate') : undefined
    return file ? new Blob([await readFile(file)]) : undefined
  })()
  return template
}

export const databaseKind = process.env.DATABASE_URL ? 'postgresql' : 'pglite'

export class PostgresUnavailable extends Error {}

/** A database of its own in the PostgreSQL at `url` (for a whole service process), dropped again by `drop`. */
export async function createScratchDatabase(url: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
  } catch (error) {
    await admin.end({ timeout: 1 })
    throw new PostgresUnavailable(`cannot create a database at ${url.replace(/\/\/[^@/]*@/, '//')}: ${(error as Error).message}`)
  }
  const own = new URL(url)
  own.pathname = `/${name}`
  return {
    url: own.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end({ timeout: 5 })
    },
  }
}
