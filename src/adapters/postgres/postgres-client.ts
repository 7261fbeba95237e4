import postgres from 'postgres'
import type { SqlClient } from './sql-client'

type Sql = postgres.Sql | postgres.TransactionSql

function wrap(sql: Sql, root: postgres.Sql): SqlClient {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      return (await sql.unsafe(text, params as never[])) as unknown as T[]
    },
    async exec(text: string) {
      await sql.unsafe(text)
    },
    async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (sql !== root) return work(wrap(sql, root))
      return (await root.begin((tx) => work(wrap(tx, root)))) as T
    },
    async close() {
      await root.end({ timeout: 5 })
    },
  }
}

export interface PostgresOptions {
  url: string
  /** Schema to use instead of public: the test suite gives each test file its own. */
  schema?: string
  max?: number
}

/**
 * postgres.js serializes every json/jsonb parameter with JSON.stringify, so the JSON text the
 * port passes (see SqlClient) would be stored as a JSON string; text is passed as it is.
 */
const jsonAsText = {
  to: 114,
  from: [114, 3802],
  serialize: (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value)),
  parse: (text: string) => JSON.parse(text) as unknown,
}

export function createPostgresClient(options: PostgresOptions): SqlClient {
  const root = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => {},
    types: { json: jsonAsText },
    ...(options.schema ? { connection: { search_path: options.schema } } : {}),
  })
  return wrap(root, root)
}
