import { entryHashInput, GENESIS_HASH, type AuditEntry } from '../../core/audit/audit-chain'
import type { AuditLog } from '../../core/audit/audit-log'
import { sha256HexNow } from '../crypto/sha256'
import type { SqlClient } from './sql-client'

interface AuditRow {
  seq: number | string
  at: string
  kind: string
  detail: Record<string, unknown> | string
  prev_hash: string
  hash: string
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    kind: row.kind,
    detail: typeof row.detail === 'string' ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

/** An advisory lock of its own serialises appends across processes and transactions. */
const AUDIT_LOCK = 7261347
/** A batch that lost the race for the next sequence number is chained again on the new head, this often at most. */
const MAX_ATTEMPTS = 8

type Head = { size: number; head: string }
/**
 * A write that commits with an entry, what the entry records or goes with it: an INSERT, UPDATE
 * or DELETE run as a WITH query of the entry's own INSERT, so both take one statement and one
 * commit. Its parameters are its own $1, $2, …; its text holds no other `$`.
 */
export interface StatementWithEntry {
  text: string
  params: unknown[]
}
type Pending = { kind: string; detail: Record<string, unknown>; at: Date; alongside: StatementWithEntry[]; resolve(entry: AuditEntry): void; reject(error: unknown): void }

async function readHead(db: SqlClient): Promise<Head> {
  const [last] = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1')
  return last ? { size: Number(last.seq), head: last.hash } : { size: 0, head: GENESIS_HASH }
}

/**
 * Chains entries onto a head. JSON round trip first: what is hashed is exactly what jsonb gives
 * back. The hash is the core's entryHash, taken here without a trip to WebCrypto's thread pool.
 */
function chain(head: Head, items: Array<Pick<Pending, 'kind' | 'detail' | 'at'>>): AuditEntry[] {
  const entries: AuditEntry[] = []
  let prevHash = head.head
  for (const [index, item] of items.entries()) {
    const content = { seq: head.size + index + 1, at: item.at.toISOString(), kind: item.kind, detail: JSON.parse(JSON.stringify(item.detail)) as Record<string, unknown> }
    const hash = sha256HexNow(entryHashInput(content, prevHash))
    entries.push({ ...content, prevHash, hash })
    prevHash = hash
  }
  return entries
}

// The advisory lock is taken in the statement itself (held until it commits), so an append in
// another transaction that holds the lock is waited for rather than raced.
const LOCK = `lock AS (SELECT pg_advisory_xact_lock(${AUDIT_LOCK}))`
const INSERT_BATCH = `
INSERT INTO audit_entries (seq, at, kind, detail, prev_hash, hash)
SELECT v.seq, v.at, v.kind, v.detail, v.prev_hash, v.hash
FROM lock, jsonb_to_recordset($1::jsonb) AS v(seq bigint, at text, kind text, detail jsonb, prev_hash text, hash text)`
// A batch of one, as every append is when they come one at a time: the same insert without
// the JSON array and jsonb_to_recordset, which PGlite plans and runs in about half the time.
const INSERT_ONE = `
INSERT INTO audit_entries (seq, at, kind, detail, prev_hash, hash)
SELECT $1, $2, $3, $4::jsonb, $5, $6 FROM lock`

/** The one statement that inserts these entries and runs the writes that go with them, with its parameters. */
function insertOf(entries: AuditEntry[], alongside: StatementWithEntry[] = []): [string, unknown[]] {
  const [one] = entries as [AuditEntry]
  const [insert, params]: [string, unknown[]] =
    entries.length === 1
      ? [INSERT_ONE, [one.seq, one.at, one.kind, JSON.stringify(one.detail), one.prevHash, one.hash]]
      : [INSERT_BATCH, [JSON.stringify(entries.map((e) => ({ seq: e.seq, at: e.at, kind: e.kind, detail: e.detail, prev_hash: e.prevHash, hash: e.hash })))]]
  const withQueries = [LOCK]
  for (const [index, statement] of alongside.entries()) {
    const offset = params.length
    withQueries.push(`alongside_${index} AS (${statement.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`)
    params.push(...statement.params)
  }
  return [`WITH ${withQueries.join(',\n')}${insert}`, params]
}

/** Another writer took the sequence number (PGlite names the table `table`, postgres.js `table_name`). */
function lostTheRace(error: unknown): boolean {
  const { code, table, table_name: tableName } = (error ?? {}) as { code?: unknown; table?: unknown; table_name?: unknown }
  return code === '23505' && (table ?? tableName) === 'audit_entries'
}

/**
 * Appends an entry inside a transaction of the caller's, so that the entry commits with the
 * change it records or not at all: the lock is held to the end of that transaction.
 */
export async function appendInTransaction(tx: SqlClient, kind: string, detail: Record<string, unknown>, at: Date): Promise<AuditEntry> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK])
  const [entry] = chain(await readHead(tx), [{ kind, detail, at }])
  await tx.query(...insertOf([entry as AuditEntry]))
  return entry as AuditEntry
}

export interface PgAuditLog extends AuditLog {
  /**
   * Appends an entry and runs `statements` in the same statement: both or neither, one commit
   * where separate writes would cost one each (on PostgreSQL, a WAL flush each).
   */
  appendWith(kind: string, detail: Record<string, unknown>, at: Date, statements: StatementWithEntry[]): Promise<AuditEntry>
}

/**
 * The audit log in PostgreSQL or PGlite. Appends made while one is being written are chained
 * together and written by the next single statement (group commit), on the head this process
 * last wrote, with the writes that go with them. When another process or transaction wrote
 * meanwhile, the statement fails on the sequence number and the batch is chained again on the
 * new head: no entry is lost or reordered. A batch that fails otherwise fails every append in it.
 */
export function createPgAuditLog(db: SqlClient): PgAuditLog {
  let head: Head | undefined
  let queue: Pending[] = []
  let writing = false

  async function write(batch: Pending[]): Promise<AuditEntry[]> {
    const alongside = batch.flatMap((item) => item.alongside)
    for (let attempt = 1; ; attempt++) {
      head ??= await readHead(db)
      const entries = chain(head, batch)
      try {
        await db.query(...insertOf(entries, alongside))
        const last = entries[entries.length - 1] as AuditEntry
        head = { size: last.seq, head: last.hash }
        return entries
      } catch (error) {
        head = undefined
        if (!lostTheRace(error) || attempt >= MAX_ATTEMPTS) throw error
      }
    }
  }

  async function drain(): Promise<void> {
    writing = true
    while (queue.length > 0) {
      const batch = queue
      queue = []
      try {
        const entries = await write(batch)
        batch.forEach((item, index) => item.resolve(entries[index] as AuditEntry))
      } catch (error) {
        for (const item of batch) item.reject(error)
      }
    }
    writing = false
  }

  function enqueue(item: Omit<Pending, 'resolve' | 'reject'>): Promise<AuditEntry> {
    return new Promise<AuditEntry>((resolve, reject) => {
      queue.push({ ...item, resolve, reject })
      if (!writing) void drain()
    })
  }

  return {
    append: (kind, detail, at) => enqueue({ kind, detail, at, alongside: [] }),
    appendWith: (kind, detail, at, alongside) => enqueue({ kind, detail, at, alongside }),

    async entries(from, limit) {
      return (await db.query<AuditRow>('SELECT * FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2', [from, limit])).map(fromRow)
    },

    head: () => readHead(db),
  }
}
