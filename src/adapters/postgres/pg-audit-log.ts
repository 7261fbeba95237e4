import { entryHash, GENESIS_HASH, type AuditEntry } from '../../core/audit/audit-chain'
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

/** An advisory lock of its own serialises appends: each entry needs the head the one before left. */
const AUDIT_LOCK = 7261347

/** The audit log in PostgreSQL or PGlite: append, read in order, and the head. */
export function createPgAuditLog(db: SqlClient) {
  return {
    async append(kind: string, detail: Record<string, unknown>, at: Date): Promise<AuditEntry> {
      // JSON round trip first: what is hashed is exactly what jsonb will give back.
      const stored = JSON.parse(JSON.stringify(detail)) as Record<string, unknown>
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK])
        const [last] = await tx.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1')
        const seq = last ? Number(last.seq) + 1 : 1
        const prevHash = last?.hash ?? GENESIS_HASH
        const content = { seq, at: at.toISOString(), kind, detail: stored }
        const hash = await entryHash(content, prevHash)
        await tx.query('INSERT INTO audit_entries (seq, at, kind, detail, prev_hash, hash) VALUES ($1, $2, $3, $4::jsonb, $5, $6)', [
          seq,
          content.at,
          kind,
          JSON.stringify(stored),
          prevHash,
          hash,
        ])
        return { ...content, prevHash, hash }
      })
    },

    /** Entries from `from` (1-based) in order, at most `limit`. */
    async entries(from: number, limit: number): Promise<AuditEntry[]> {
      return (await db.query<AuditRow>('SELECT * FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2', [from, limit])).map(fromRow)
    },

    async head(): Promise<{ size: number; head: string }> {
      const [last] = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1')
      return last ? { size: Number(last.seq), head: last.hash } : { size: 0, head: GENESIS_HASH }
    },
  }
}

export type AuditLog = ReturnType<typeof createPgAuditLog>
