import { holderKey, type Licence, type LicenceEvent, type LicenceStatus } from '../../core/licence/licence'
import type { IdempotentResult, StatusListSlot, Store, StoreTransaction, StoredStatusList } from '../../core/ports'
import { applicationReads, applicationWrites } from './pg-application-store'
import { attachmentStore, attachmentWrites } from './pg-attachment-store'
import { outboxWrites } from './pg-outbox'
import { supervisionReads } from './pg-supervision-store'
import { subscriptionReads } from './pg-subscriptions'
import type { SqlClient } from './sql-client'

export interface LicenceRow {
  id: string
  number: string
  serial: string
  version: number
  type_key: string
  type_code: string
  holder: Licence['holder']
  fields: Record<string, unknown>
  valid_from: Date
  valid_until: Date
  status: LicenceStatus
  status_reason: string | null
  revocation_list: string
  revocation_index: number
  suspension_list: string
  suspension_index: number
  issued_at: Date
  credential: string
  supersedes: string | null
}

export function toLicence(row: LicenceRow): Licence {
  return {
    id: row.id,
    number: row.number,
    serial: row.serial,
    version: row.version,
    typeKey: row.type_key,
    typeCode: row.type_code,
    holder: row.holder,
    fields: row.fields,
    validFrom: new Date(row.valid_from),
    validUntil: new Date(row.valid_until),
    status: row.status,
    statusReason: row.status_reason,
    statusEntries: [
      { purpose: 'revocation', listId: row.revocation_list, index: row.revocation_index },
      { purpose: 'suspension', listId: row.suspension_list, index: row.suspension_index },
    ],
    issuedAt: new Date(row.issued_at),
    credential: row.credential,
    supersedes: row.supersedes,
  }
}

function entry(licence: Licence, purpose: 'revocation' | 'suspension') {
  const found = licence.statusEntries.find((e) => e.purpose === purpose)
  if (!found) throw new Error(`licence ${licence.id} has no ${purpose} status entry`)
  return found
}

function transaction(tx: SqlClient, now: () => Date): StoreTransaction {
  const nextSequence = async (name: string) => {
    const [row] = await tx.query<{ value: number }>(
      'INSERT INTO sequences (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value',
      [name],
    )
    return (row as { value: number }).value
  }
  return {
    ...applicationWrites(tx),
    ...attachmentWrites(tx),
    ...outboxWrites(tx, now),
    ...supervisionReads(tx),
    ...subscriptionReads(tx),
    nextSequence,
    async allocateStatusSlot(purpose, listSize): Promise<StatusListSlot> {
      let [list] = await tx.query<{ id: string }>(
        'SELECT id FROM status_lists WHERE purpose = $1 AND used < size ORDER BY created_at, id LIMIT 1 FOR UPDATE',
        [purpose],
      )
      if (!list) {
        const id = `${purpose === 'revocation' ? 'r' : 's'}${await nextSequence(`status_list_${purpose}`)}`
        await tx.query('INSERT INTO status_lists (id, purpose, size) VALUES ($1, $2, $3)', [id, purpose, listSize])
        list = { id }
      }
      const [slot] = await tx.query<{ index: number }>('UPDATE status_lists SET used = used + 1 WHERE id = $1 RETURNING used - 1 AS index', [list.id])
      return { listId: list.id, index: (slot as { index: number }).index }
    },
    async insertLicence(licence) {
      const revocation = entry(licence, 'revocation')
      const suspension = entry(licence, 'suspension')
      await tx.query(
        `INSERT INTO licences (id, number, serial, version, type_key, type_code, holder, holder_key, fields, valid_from, valid_until,
           status, status_reason, revocation_list, revocation_index, suspension_list, suspension_index, issued_at, credential, supersedes)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
        [
          licence.id, licence.number, licence.serial, licence.version, licence.typeKey, licence.typeCode,
          JSON.stringify(licence.holder), holderKey(licence.holder), JSON.stringify(licence.fields),
          licence.validFrom, licence.validUntil, licence.status, licence.statusReason,
          revocation.listId, revocation.index, suspension.listId, suspension.index, licence.issuedAt, licence.credential, licence.supersedes,
        ],
      )
    },
    async updateLicenceStatus(id, status, reason) {
      await tx.query('UPDATE licences SET status = $2, status_reason = $3 WHERE id = $1', [id, status, reason])
    },
    async lockLicence(id) {
      if (!isUuid(id)) return undefined
      const [row] = await tx.query<LicenceRow>('SELECT * FROM licences WHERE id = $1 FOR UPDATE', [id])
      return row ? toLicence(row) : undefined
    },
    async insertLicenceEvent(event) {
      await tx.query('INSERT INTO licence_events (licence_id, action, reason, actor, at) VALUES ($1, $2, $3, $4, $5)', [
        event.licenceId, event.action, event.reason, event.actor, event.at,
      ])
    },
    async claimIdempotencyKey(scope, key, requestHash): Promise<IdempotentResult | 'claimed'> {
      const inserted = await tx.query('INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key', [
        scope, key, requestHash,
      ])
      if (inserted.length > 0) return 'claimed'
      const [row] = await tx.query<{ request_hash: string; status: number; body: unknown }>(
        'SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [scope, key],
      )
      const found = row as { request_hash: string; status: number; body: unknown }
      return { requestHash: found.request_hash, status: found.status, body: found.body }
    },
    async completeIdempotencyKey(scope, key, status, body) {
      await tx.query('UPDATE idempotency_keys SET status = $3, body = $4::jsonb WHERE scope = $1 AND key = $2', [scope, key, status, JSON.stringify(body)])
    },
  }
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
}

/** `now` stamps outbox messages; the service's clock, so tests that move time move it too. */
export function createPgStore(db: SqlClient, now: () => Date = () => new Date()): Store {
  return {
    ...applicationReads(db),
    ...attachmentStore(db),
    transaction: (work) => db.transaction((tx) => work(transaction(tx, now))),
    async getLicence(id) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<LicenceRow>('SELECT * FROM licences WHERE id = $1', [id])
      return row ? toLicence(row) : undefined
    },
    async findLicenceByNumber(number) {
      const [row] = await db.query<LicenceRow>('SELECT * FROM licences WHERE number = $1', [number])
      return row ? toLicence(row) : undefined
    },
    async listLicenceEvents(licenceId): Promise<LicenceEvent[]> {
      const rows = await db.query<{ action: LicenceEvent['action']; reason: string | null; actor: string; at: Date }>(
        'SELECT action, reason, actor, at FROM licence_events WHERE licence_id = $1 ORDER BY id',
        [licenceId],
      )
      return rows.map((row) => ({ licenceId, action: row.action, reason: row.reason, actor: row.actor, at: new Date(row.at) }))
    },
    async listStatusLists(): Promise<StoredStatusList[]> {
      return db.query<StoredStatusList>('SELECT id, purpose, size, used FROM status_lists ORDER BY created_at, id')
    },
    async setStatusIndices(listId) {
      const rows = await db.query<{ index: number }>(
        `SELECT revocation_index AS index FROM licences WHERE revocation_list = $1 AND status IN ('revoked', 'superseded')
         UNION ALL
         SELECT suspension_index AS index FROM licences WHERE suspension_list = $1 AND status = 'suspended'`,
        [listId],
      )
      return rows.map((row) => row.index)
    },
    async getTrustListState() {
      const [row] = await db.query<{ sequence: number; content_hash: string; jws: string; valid_until: Date }>(
        'SELECT sequence, content_hash, jws, valid_until FROM trust_list_state WHERE id = 1',
      )
      return row ? { sequence: row.sequence, contentHash: row.content_hash, jws: row.jws, validUntil: new Date(row.valid_until) } : undefined
    },
    async saveTrustListState(state) {
      const saved = await db.query(
        `INSERT INTO trust_list_state (id, sequence, content_hash, jws, valid_until) VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET sequence = EXCLUDED.sequence, content_hash = EXCLUDED.content_hash, jws = EXCLUDED.jws, valid_until = EXCLUDED.valid_until
         WHERE trust_list_state.sequence < EXCLUDED.sequence
         RETURNING sequence`,
        [state.sequence, state.contentHash, state.jws, state.validUntil],
      )
      return saved.length > 0
    },
  }
}
