import type { Agreement } from '../../core/partner/agreement'
import type { SqlClient } from './sql-client'

interface AgreementRow {
  partner: string
  id: string
  partner_name: string
  terms: unknown
  jws: unknown
  signed_by: unknown
  termination: unknown
  delivered: boolean
  created_at: Date
  updated_at: Date
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T))

function fromRow(row: AgreementRow): Agreement {
  return {
    terms: json(row.terms),
    partner: { code: row.partner, name: row.partner_name },
    jws: json(row.jws),
    signedBy: json(row.signed_by),
    termination: json(row.termination) ?? null,
    delivered: row.delivered,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

/** Agreements with partners, in PostgreSQL or PGlite. */
export function createPgAgreementStore(db: SqlClient) {
  return {
    async list(): Promise<Agreement[]> {
      return (await db.query<AgreementRow>('SELECT * FROM agreements ORDER BY created_at, id')).map(fromRow)
    },
    async save(agreement: Agreement): Promise<void> {
      await db.query(
        `INSERT INTO agreements (partner, id, partner_name, terms, jws, signed_by, termination, delivered, created_at, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9, $10)
         ON CONFLICT (partner, id) DO UPDATE SET jws = EXCLUDED.jws, signed_by = EXCLUDED.signed_by, termination = EXCLUDED.termination,
           delivered = EXCLUDED.delivered, updated_at = EXCLUDED.updated_at`,
        [
          agreement.partner.code,
          agreement.terms.id,
          agreement.partner.name,
          JSON.stringify(agreement.terms),
          JSON.stringify(agreement.jws),
          JSON.stringify(agreement.signedBy),
          agreement.termination ? JSON.stringify(agreement.termination) : null,
          agreement.delivered,
          agreement.createdAt,
          agreement.updatedAt,
        ],
      )
    },
  }
}

export type AgreementStore = ReturnType<typeof createPgAgreementStore>
