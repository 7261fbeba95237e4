import type { Application, ApplicationEvent } from '../../core/application/application'
import { holderKey } from '../../core/licence/licence'
import type { ApplicationReads, ApplicationWrites } from '../../core/ports'
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
  }
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)

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
        `INSERT INTO application_events (application_id, sequence, action, from_status, to_status, actor, reason, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) ON CONFLICT DO NOTHING RETURNING sequence`,
        [e.applicationId, e.sequence, e.action, e.from, e.to, e.actor, e.reason, JSON.stringify(e.detail), e.at],
      )
      return inserted.length > 0
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
    async listApplicationEvents(id) {
      if (!isUuid(id)) return []
      return (await db.query<EventRow>('SELECT * FROM application_events WHERE application_id = $1 ORDER BY sequence', [id])).map(toEvent)
    },
  }
}
