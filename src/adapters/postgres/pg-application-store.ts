import type { Application, ApplicationEvent } from '../../core/application/application'
import type { LicenceCollection } from '../../core/application/application'
import { holderKey } from '../../core/licence/licence'
import type { ApplicationMessage, ApplicationReads, ApplicationWrites } from '../../core/ports'
import { fromBase64, toBase64 } from '../crypto/x509'
import type { SqlClient } from './sql-client'

interface ApplicationRow {
  id: string
  matter_code: string
  applicant: Application['applicant']
  form: Record<string, unknown>
  attachments: Application['attachments']
  accepting_region: Application['acceptingRegion']
  handling_region: Application['handlingRegion']
  status: Application['status']
  resume_status: Application['status'] | null
  licence_id: string | null
  sequence: number
  created_at: Date
  updated_at: Date
}

interface EventRow {
  application_id: string
  sequence: number
  action: ApplicationEvent['action']
  from_status: ApplicationEvent['from']
  to_status: ApplicationEvent['to']
  actor: string
  reason: string | null
  detail: Record<string, unknown>
  at: Date
  statement: string | null
}

interface CollectionRow {
  application_id: string
  issuing_region: string
  licence_id: string
  licence_number: string
  state: LicenceCollection['state']
  pdf: string | null
  credential: string | null
  verification: LicenceCollection['verification']
  last_error: string | null
  created_at: Date
  updated_at: Date
  ready_at: Date | null
  handed_over_at: Date | null
  handed_over_by: string | null
}

interface MessageRow {
  id: string
  topic: string
  destination: string
  state: ApplicationMessage['state']
  attempts: number
  last_error: string | null
  created_at: Date
  delivered_at: Date | null
}

const dateOrNull = (value: Date | null) => (value === null ? null : new Date(value))

function toCollection(row: CollectionRow): LicenceCollection {
  return {
    applicationId: row.application_id,
    issuingRegion: row.issuing_region,
    licenceId: row.licence_id,
    licenceNumber: row.licence_number,
    state: row.state,
    // Kept as base64 text: the same parameter on PGlite and postgres.js, whatever each makes of bytea.
    pdf: row.pdf === null ? null : fromBase64(row.pdf),
    credential: row.credential,
    verification: row.verification,
    lastError: row.last_error,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    readyAt: dateOrNull(row.ready_at),
    handedOverAt: dateOrNull(row.handed_over_at),
    handedOverBy: row.handed_over_by,
  }
}

function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    matterCode: row.matter_code,
    applicant: row.applicant,
    form: row.form,
    attachments: row.attachments,
    acceptingRegion: row.accepting_region,
    handlingRegion: row.handling_region,
    status: row.status,
    resumeStatus: row.resume_status,
    licenceId: row.licence_id,
    sequence: row.sequence,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

function toEvent(row: EventRow): ApplicationEvent {
  return {
    applicationId: row.application_id,
    sequence: row.sequence,
    action: row.action,
    from: row.from_status,
    to: row.to_status,
    actor: row.actor,
    reason: row.reason,
    detail: row.detail,
    at: new Date(row.at),
    ...(row.statement !== null ? { statement: row.statement } : {}),
  }
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)

async function listEvents(db: SqlClient, id: string): Promise<ApplicationEvent[]> {
  if (!isUuid(id)) return []
  return (await db.query<EventRow>('SELECT * FROM application_events WHERE application_id = $1 ORDER BY sequence', [id])).map(toEvent)
}

export function applicationWrites(tx: SqlClient): ApplicationWrites {
  return {
    async insertApplication(a) {
      const inserted = await tx.query(
        `INSERT INTO applications (id, matter_code, applicant, applicant_key, form, attachments, accepting_region, handling_region,
           status, resume_status, licence_id, sequence, created_at, updated_at)
         VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          a.id, a.matterCode, JSON.stringify(a.applicant), holderKey(a.applicant), JSON.stringify(a.form), JSON.stringify(a.attachments),
          JSON.stringify(a.acceptingRegion), JSON.stringify(a.handlingRegion), a.status, a.resumeStatus, a.licenceId, a.sequence, a.createdAt, a.updatedAt,
        ],
      )
      return inserted.length > 0
    },
    async lockApplication(id) {
      if (!isUuid(id)) return undefined
      const [row] = await tx.query<ApplicationRow>('SELECT * FROM applications WHERE id = $1 FOR UPDATE', [id])
      return row ? toApplication(row) : undefined
    },
    async updateApplication(a) {
      await tx.query(
        `UPDATE applications SET form = $2::jsonb, attachments = $3::jsonb, status = $4, resume_status = $5, licence_id = $6, sequence = $7, updated_at = $8 WHERE id = $1`,
        [a.id, JSON.stringify(a.form), JSON.stringify(a.attachments), a.status, a.resumeStatus, a.licenceId, a.sequence, a.updatedAt],
      )
    },
    async insertApplicationEvent(e) {
      const inserted = await tx.query(
        `INSERT INTO application_events (application_id, sequence, action, from_status, to_status, actor, reason, detail, at, statement)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10) ON CONFLICT DO NOTHING RETURNING sequence`,
        [e.applicationId, e.sequence, e.action, e.from, e.to, e.actor, e.reason, JSON.stringify(e.detail), e.at, e.statement ?? null],
      )
      return inserted.length > 0
    },
    async findSentRequest(applicationId, messageId) {
      if (!isUuid(messageId)) return undefined
      const [row] = await tx.query<{ body: string }>('SELECT body FROM outbox_messages WHERE id = $1 AND subject = $2', [messageId, applicationId])
      return row ? (JSON.parse(row.body) as unknown) : undefined
    },
    listApplicationEvents: (id) => listEvents(tx, id),
    async findApplicationEvent(applicationId, sequence) {
      const [row] = await tx.query<EventRow>('SELECT * FROM application_events WHERE application_id = $1 AND sequence = $2', [applicationId, sequence])
      return row ? toEvent(row) : undefined
    },
    async insertCollection(c) {
      const inserted = await tx.query(
        `INSERT INTO licence_collections (application_id, issuing_region, licence_id, licence_number, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id) DO NOTHING RETURNING application_id`,
        [c.applicationId, c.issuingRegion, c.licenceId, c.licenceNumber, c.state, c.createdAt, c.updatedAt],
      )
      return inserted.length > 0
    },
    async lockCollection(applicationId) {
      if (!isUuid(applicationId)) return undefined
      const [row] = await tx.query<CollectionRow>('SELECT * FROM licence_collections WHERE application_id = $1 FOR UPDATE', [applicationId])
      return row ? toCollection(row) : undefined
    },
    async updateCollection(c) {
      await tx.query(`UPDATE licence_collections SET state = $2, last_error = $3, updated_at = $4, handed_over_at = $5, handed_over_by = $6 WHERE application_id = $1`, [
        c.applicationId,
        c.state,
        c.lastError,
        c.updatedAt,
        c.handedOverAt,
        c.handedOverBy,
      ])
    },
  }
}

export function applicationReads(db: SqlClient): ApplicationReads {
  return {
    async getApplication(id) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<ApplicationRow>('SELECT * FROM applications WHERE id = $1', [id])
      return row ? toApplication(row) : undefined
    },
    listApplicationEvents: (id) => listEvents(db, id),
    async findApplicationByLicence(licenceId) {
      if (!isUuid(licenceId)) return undefined
      const [row] = await db.query<ApplicationRow>('SELECT * FROM applications WHERE licence_id = $1', [licenceId])
      return row ? toApplication(row) : undefined
    },
    async listApplicationMessages(id) {
      if (!isUuid(id)) return []
      const rows = await db.query<MessageRow>(
        'SELECT id, topic, destination, state, attempts, last_error, created_at, delivered_at FROM outbox_messages WHERE subject = $1 ORDER BY position',
        [id],
      )
      return rows.map((r) => ({
        id: r.id,
        topic: r.topic,
        destination: r.destination,
        state: r.state,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        createdAt: new Date(r.created_at),
        deliveredAt: dateOrNull(r.delivered_at),
      }))
    },
    async getCollection(applicationId) {
      if (!isUuid(applicationId)) return undefined
      const [row] = await db.query<CollectionRow>('SELECT * FROM licence_collections WHERE application_id = $1', [applicationId])
      return row ? toCollection(row) : undefined
    },
    async recordCollectionAttempt(applicationId, attempt) {
      const licence = attempt.licence
      await db.query(
        `UPDATE licence_collections SET state = $2, last_error = $3, updated_at = $4,
           pdf = COALESCE($5, pdf), credential = COALESCE($6, credential), verification = COALESCE($7::jsonb, verification),
           ready_at = CASE WHEN $2 = 'ready' THEN COALESCE(ready_at, $4) ELSE ready_at END
         WHERE application_id = $1 AND state <> 'handed_over'`,
        [applicationId, attempt.state, attempt.lastError, attempt.at, licence ? toBase64(licence.pdf) : null, licence?.credential ?? null, licence ? JSON.stringify(licence.verification) : null],
      )
    },
  }
}
