import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { SqlClient } from './sql-client'

type Target = PGlite | Transaction

function wrap(db: Target, root: PGlite): SqlClient {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      return (await db.query<T>(text, params)).rows
    },
    async exec(text: string) {
      await db.exec(text)
    },
    async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (db !== root) return work(wrap(db, root))
      return root.transaction((tx) => work(wrap(tx, root)))
    },
    async close() {
      await root.close()
    },
  }
}

/**
 * Embedded PostgreSQL: data in `dataDir`, or in memory when it is undefined (tests). An in-memory
 * database may start from `copyOf`, a data directory dumped by `PGlite.dumpDataDir`, which skips
 * initdb (about half of starting one).
 */
export async function createPgliteClient(dataDir: string | undefined, copyOf?: Blob): Promise<SqlClient> {
  const db = await PGlite.create(dataDir ? { dataDir } : copyOf ? { loadDataDir: copyOf } : {})
  return wrap(db, db)
}
