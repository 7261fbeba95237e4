/**
 * The one small query port both databases implement: embedded PGlite and PostgreSQL through
 * postgres.js run the same SQL with `$n` parameters. JSON parameters are passed as text and
 * cast with `::jsonb` in the SQL, which both accept.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  /** Runs several statements without parameters (migrations). */
  exec(text: string): Promise<void>
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>
  close(): Promise<void>
}
