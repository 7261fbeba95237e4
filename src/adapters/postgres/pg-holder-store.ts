import type { ConsentCheckTransaction, FailureCounts } from '../../core/holder/bank-check'
import type { Consent, ConsentStore } from '../../core/holder/consent'
import type { HolderCredential, HolderCredentialStore } from '../../core/holder/holder-credential'
import type { LicenceUse, LicenceUses, RecordedLicenceUse } from '../../core/holder/licence-use'
import type { RelyingParty, RelyingPartyStore } from '../../core/holder/relying-party'
import { holderKey, type Licence } from '../../core/licence/licence'
import type { Indication } from '../../core/verification/report'
import { appendInTransaction, type StatementWithEntry } from './pg-audit-log'
import { isUuid, toLicence, type LicenceRow } from './pg-store'
import type { SqlClient } from './sql-client'

interface HolderCredentialRow {
  id: string
  holder: HolderCredential['holder']
  label: string | null
  created_at: Date
  revoked_at: Date | null
}

const toHolderCredential = (row: HolderCredentialRow): HolderCredential => ({
  id: row.id,
  holder: row.holder,
  label: row.label,
  createdAt: new Date(row.created_at),
  revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
})

interface RelyingPartyRow {
  id: string
  kind: 'bank'
  name: string
  branch: string
  purposes: string[]
  may_request: Record<string, string[]>
  webhook_url: string | null
  created_at: Date
  revoked_at: Date | null
}

const PARTY_COLUMNS = 'id, kind, name, branch, purposes, may_request, webhook_url, created_at, revoked_at'

const toRelyingParty = (row: RelyingPartyRow): RelyingParty => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  branch: row.branch,
  purposes: row.purposes,
  mayRequest: row.may_request,
  webhookUrl: row.webhook_url,
  createdAt: new Date(row.created_at),
  revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
})

interface ConsentRow {
  id: string
  holder_key: string
  relying_party_id: string
  licence_ids: string[]
  purpose: string
  fields: string[]
  max_uses: number
  uses: number
  status_updates: boolean
  expires_at: Date
  withdrawn_at: Date | null
  created_at: Date
}

const CONSENT_COLUMNS = 'id, holder_key, relying_party_id, licence_ids, purpose, fields, max_uses, uses, status_updates, expires_at, withdrawn_at, created_at'

const toConsent = (row: ConsentRow): Consent => ({
  id: row.id,
  holderKey: row.holder_key,
  relyingPartyId: row.relying_party_id,
  licenceIds: row.licence_ids,
  purpose: row.purpose,
  fields: row.fields,
  maxUses: row.max_uses,
  uses: row.uses,
  statusUpdates: row.status_updates,
  expiresAt: new Date(row.expires_at),
  withdrawnAt: row.withdrawn_at ? new Date(row.withdrawn_at) : null,
  createdAt: new Date(row.created_at),
})

/**
 * The statement that records a use, for the holder of a licence issued here; undefined for
 * anything else, which has no holder here to show it to.
 */
export function licenceUseStatement(use: LicenceUse): StatementWithEntry | undefined {
  if (!isUuid(use.licenceId)) return undefined
  return {
    text: `INSERT INTO licence_uses (licence_id, holder_key, user_kind, user_id, user_name, user_branch, purpose, consent_id, indication, at)
     SELECT id, holder_key, $2, $3, $4, $5, $6, $7, $8, $9 FROM licences WHERE id = $1`,
    params: [use.licenceId, use.user.kind, use.user.id, use.user.name, use.user.branch, use.purpose, use.consentId, use.indication, use.at],
  }
}

async function recordLicenceUse(db: SqlClient, use: LicenceUse): Promise<void> {
  const statement = licenceUseStatement(use)
  if (statement) await db.query(statement.text, statement.params)
}

/** The first key of the two-key advisory locks on consent codes (the second is the code hash's hashtext). */
const CONSENT_CODE_LOCK = 7261348

function checkTransaction(tx: SqlClient): ConsentCheckTransaction {
  return {
    async lockRelyingParty(id) {
      await tx.query('SELECT id FROM relying_parties WHERE id = $1 FOR UPDATE', [id])
    },
    async lockCode(codeHash) {
      // A code has no row of its own to lock; an advisory lock held to commit stands in (a hashtext collision only serialises two codes).
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CONSENT_CODE_LOCK, codeHash])
    },
    async failuresSince(relyingPartyId, codeHash, since): Promise<FailureCounts> {
      const [row] = await tx.query<{ party_count: number; party_oldest: Date | null; code_count: number; code_oldest: Date | null }>(
        `SELECT count(*) FILTER (WHERE relying_party_id = $1)::int AS party_count, min(at) FILTER (WHERE relying_party_id = $1) AS party_oldest,
                count(*) FILTER (WHERE code_hash = $2)::int AS code_count, min(at) FILTER (WHERE code_hash = $2) AS code_oldest
         FROM consent_check_failures WHERE (relying_party_id = $1 OR code_hash = $2) AND at > $3`,
        [relyingPartyId, codeHash, since],
      )
      const date = (value: Date | null | undefined) => (value ? new Date(value) : null)
      return {
        byParty: { count: row?.party_count ?? 0, oldest: date(row?.party_oldest) },
        byCode: { count: row?.code_count ?? 0, oldest: date(row?.code_oldest) },
      }
    },
    async recordFailure(failure) {
      await tx.query('INSERT INTO consent_check_failures (relying_party_id, code_hash, reason, at) VALUES ($1, $2, $3, $4)', [
        failure.relyingPartyId, failure.codeHash, failure.reason, failure.at,
      ])
    },
    async lockConsentByCodeHash(codeHash) {
      const [row] = await tx.query<ConsentRow>(`SELECT ${CONSENT_COLUMNS} FROM consents WHERE code_hash = $1 FOR UPDATE`, [codeHash])
      return row ? toConsent(row) : undefined
    },
    async countConsentUse(id) {
      await tx.query('UPDATE consents SET uses = uses + 1 WHERE id = $1', [id])
    },
    async getLicence(id) {
      if (!isUuid(id)) return undefined
      const [row] = await tx.query<LicenceRow>('SELECT * FROM licences WHERE id = $1', [id])
      return row ? toLicence(row) : undefined
    },
    recordUse: (use) => recordLicenceUse(tx, use),
    async subscribe(subscription) {
      await tx.query(
        'INSERT INTO licence_subscriptions (id, licence_id, relying_party_id, consent_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (licence_id, relying_party_id) DO NOTHING',
        [subscription.id, subscription.licenceId, subscription.relyingPartyId, subscription.consentId, subscription.createdAt],
      )
    },
    async audit(kind, detail, at) {
      await appendInTransaction(tx, kind, detail, at)
    },
  }
}

export interface PgHolderStore extends HolderCredentialStore, RelyingPartyStore, ConsentStore {
  listLicencesOfHolder(holderKey: string): Promise<Licence[]>
  checks: { transaction<T>(work: (tx: ConsentCheckTransaction) => Promise<T>): Promise<T> }
  uses: LicenceUses
}

/** Holder credentials, banks, consents, bank-check failures and the licence use log, in the tables of migration 011_holders. */
export function createPgHolderStore(db: SqlClient): PgHolderStore {
  return {
    async insertHolderCredential(credential, tokenHash) {
      await db.query('INSERT INTO holder_credentials (id, holder, holder_key, token_hash, label, created_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6)', [
        credential.id, JSON.stringify(credential.holder), holderKey(credential.holder), tokenHash, credential.label, credential.createdAt,
      ])
    },
    async holderCredentialByTokenHash(tokenHash) {
      const [row] = await db.query<HolderCredentialRow>(
        'SELECT id, holder, label, created_at, revoked_at FROM holder_credentials WHERE token_hash = $1 AND revoked_at IS NULL',
        [tokenHash],
      )
      return row ? toHolderCredential(row) : undefined
    },
    async revokeHolderCredential(id, at) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<HolderCredentialRow>(
        'UPDATE holder_credentials SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING id, holder, label, created_at, revoked_at',
        [id, at],
      )
      return row ? toHolderCredential(row) : undefined
    },
    async listHolderCredentials(key) {
      const rows = await db.query<HolderCredentialRow>('SELECT id, holder, label, created_at, revoked_at FROM holder_credentials WHERE holder_key = $1 ORDER BY created_at DESC, id', [key])
      return rows.map(toHolderCredential)
    },
    async listLicencesOfHolder(key) {
      const rows = await db.query<LicenceRow>('SELECT * FROM licences WHERE holder_key = $1 ORDER BY issued_at DESC, id', [key])
      return rows.map(toLicence)
    },

    async insertRelyingParty(party, tokenHash) {
      await db.query(
        'INSERT INTO relying_parties (id, kind, name, branch, token_hash, purposes, may_request, webhook_url, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)',
        [party.id, party.kind, party.name, party.branch, tokenHash, JSON.stringify(party.purposes), JSON.stringify(party.mayRequest), party.webhookUrl, party.createdAt],
      )
    },
    async relyingPartyByTokenHash(tokenHash) {
      const [row] = await db.query<RelyingPartyRow>(`SELECT ${PARTY_COLUMNS} FROM relying_parties WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash])
      return row ? toRelyingParty(row) : undefined
    },
    async getRelyingParty(id) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<RelyingPartyRow>(`SELECT ${PARTY_COLUMNS} FROM relying_parties WHERE id = $1`, [id])
      return row ? toRelyingParty(row) : undefined
    },
    async listRelyingParties() {
      return (await db.query<RelyingPartyRow>(`SELECT ${PARTY_COLUMNS} FROM relying_parties ORDER BY created_at, id`)).map(toRelyingParty)
    },
    async revokeRelyingParty(id, at) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<RelyingPartyRow>(`UPDATE relying_parties SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING ${PARTY_COLUMNS}`, [id, at])
      return row ? toRelyingParty(row) : undefined
    },

    async insertConsent(consent, codeHash) {
      const inserted = await db.query(
        `INSERT INTO consents (id, code_hash, holder_key, relying_party_id, licence_ids, purpose, fields, max_uses, uses, status_updates, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, 0, $9, $10, $11) ON CONFLICT (code_hash) DO NOTHING RETURNING id`,
        [consent.id, codeHash, consent.holderKey, consent.relyingPartyId, JSON.stringify(consent.licenceIds), consent.purpose, JSON.stringify(consent.fields), consent.maxUses, consent.statusUpdates, consent.expiresAt, consent.createdAt],
      )
      return inserted.length > 0
    },
    async listConsents(key) {
      return (await db.query<ConsentRow>(`SELECT ${CONSENT_COLUMNS} FROM consents WHERE holder_key = $1 ORDER BY created_at DESC, id`, [key])).map(toConsent)
    },
    async withdrawConsent(key, id, at) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<ConsentRow>(
        `UPDATE consents SET withdrawn_at = coalesce(withdrawn_at, $3) WHERE id = $1 AND holder_key = $2 RETURNING ${CONSENT_COLUMNS}`,
        [id, key, at],
      )
      return row ? toConsent(row) : undefined
    },

    checks: { transaction: (work) => db.transaction((tx) => work(checkTransaction(tx))) },
    uses: {
      async listForHolder(key, limit): Promise<RecordedLicenceUse[]> {
        const rows = await db.query<{
          id: number; licence_id: string; number: string; type_key: string; user_kind: 'bank' | 'partner'; user_id: string; user_name: string
          user_branch: string | null; purpose: string | null; consent_id: string | null; indication: Indication; at: Date
        }>(
          `SELECT u.id, u.licence_id, l.number, l.type_key, u.user_kind, u.user_id, u.user_name, u.user_branch, u.purpose, u.consent_id, u.indication, u.at
           FROM licence_uses u JOIN licences l ON l.id = u.licence_id WHERE u.holder_key = $1 ORDER BY u.id DESC LIMIT $2`,
          [key, limit],
        )
        return rows.map((row) => ({
          id: row.id,
          licenceId: row.licence_id,
          licenceNumber: row.number,
          licenceTypeKey: row.type_key,
          user: { kind: row.user_kind, id: row.user_id, name: row.user_name, branch: row.user_branch },
          purpose: row.purpose,
          consentId: row.consent_id,
          indication: row.indication,
          at: new Date(row.at),
        }))
      },
    },
  }
}
