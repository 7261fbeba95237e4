import type { NewOutboxMessage, OutboxMessage, OutboxStore, OutboxWrites } from '../../core/outbox/outbox'
import type { SqlClient } from './sql-client'

interface OutboxRow {
  id: string
  topic: string
  destination: string
  headers: Record<string, string>
  body: string
  created_at: Date
  attempts: number
}

function toMessage(row: OutboxRow): OutboxMessage {
  return { id: row.id, topic: row.topic, destination: row.destination, headers: row.headers, body: row.body, createdAt: new Date(row.created_at), attempts: Number(row.attempts) }
}

/** Enqueues inside the caller's transaction: the message commits or rolls back with the change that caused it. */
export function outboxWrites(tx: SqlClient, now: () => Date): OutboxWrites {
  return {
    async enqueueMessage(message: NewOutboxMessage) {
      const at = now()
      await tx.query(
        `INSERT INTO outbox_messages (id, topic, destination, headers, body, created_at, next_attempt_at, subject)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6, $7)`,
        [message.id, message.topic, message.destination, JSON.stringify(message.headers), message.body, at, message.subject ?? null],
      )
    },
  }
}

export interface OutboxCounts {
  pending: number
  delivered: number
  abandoned: number
  lastError: string | null
  lastDeliveredAt: Date | null
}

/** The outbox in PostgreSQL or PGlite, for the dispatcher and for the admin's view of it. */
export function createPgOutboxStore(db: SqlClient): OutboxStore & { countsByDestination(prefix: string): Promise<Map<string, OutboxCounts>> } {
  return {
    async claimDue(now, limit, leaseUntil) {
      // SKIP LOCKED lets dispatchers of several processes on one PostgreSQL claim disjoint
      // batches; pushing next_attempt_at to the lease's end is the lease itself.
      const rows = await db.query<OutboxRow>(
        `UPDATE outbox_messages SET next_attempt_at = $3, attempts = attempts + 1
         WHERE id IN (
           SELECT id FROM outbox_messages
           WHERE state = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at, position
           LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING id, topic, destination, headers, body, created_at, attempts, position`,
        [now, limit, leaseUntil],
      )
      return rows.sort((a, b) => Number((a as OutboxRow & { position: number }).position) - Number((b as OutboxRow & { position: number }).position)).map(toMessage)
    },
    async markDelivered(id, at) {
      await db.query(`UPDATE outbox_messages SET state = 'delivered', delivered_at = $2, last_attempt_at = $2, last_error = NULL WHERE id = $1`, [id, at])
    },
    async markRetry(id, at, nextAttemptAt, error) {
      await db.query(`UPDATE outbox_messages SET next_attempt_at = $3, last_attempt_at = $2, last_error = $4 WHERE id = $1 AND state = 'pending'`, [id, at, nextAttemptAt, error])
    },
    async markAbandoned(id, at, error) {
      await db.query(`UPDATE outbox_messages SET state = 'abandoned', last_attempt_at = $2, last_error = $3 WHERE id = $1 AND state = 'pending'`, [id, at, error])
    },
    async countsByDestination(prefix) {
      const rows = await db.query<{ destination: string; pending: number; delivered: number; abandoned: number; last_error: string | null; last_delivered_at: Date | null }>(
        `SELECT destination,
           count(*) FILTER (WHERE state = 'pending')::int AS pending,
           count(*) FILTER (WHERE state = 'delivered')::int AS delivered,
           count(*) FILTER (WHERE state = 'abandoned')::int AS abandoned,
           (array_agg(last_error ORDER BY last_attempt_at DESC NULLS LAST) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error,
           max(delivered_at) AS last_delivered_at
         FROM outbox_messages WHERE destination LIKE $1 || '%' GROUP BY destination`,
        [prefix],
      )
      return new Map(
        rows.map((r) => [
          r.destination,
          { pending: Number(r.pending), delivered: Number(r.delivered), abandoned: Number(r.abandoned), lastError: r.last_error, lastDeliveredAt: r.last_delivered_at ? new Date(r.last_delivered_at) : null },
        ]),
      )
    },
  }
}
