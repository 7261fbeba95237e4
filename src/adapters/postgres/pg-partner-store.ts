import type { Partner } from '../../core/partner/partner'
import type { SqlClient } from './sql-client'

interface PartnerRow {
  code: string
  name: string
  descriptor_url: string
  root_sha256: string
  base_url: string
  trust_list_jws: string
  trust_list_sequence: number
  trust_list_hash: string
  trust_list_valid_until: Date
  registered_at: Date
  refreshed_at: Date
  last_attempt_at: Date
  last_problem: string | null
}

function fromRow(r: PartnerRow): Partner {
  return {
    code: r.code,
    name: r.name,
    descriptorUrl: r.descriptor_url,
    rootSha256: r.root_sha256,
    baseUrl: r.base_url,
    trustList: { jws: r.trust_list_jws, sequence: Number(r.trust_list_sequence), hash: r.trust_list_hash, validUntil: new Date(r.trust_list_valid_until) },
    registeredAt: new Date(r.registered_at),
    refreshedAt: new Date(r.refreshed_at),
    lastAttemptAt: new Date(r.last_attempt_at),
    lastProblem: r.last_problem,
  }
}

/** How often nonces past their expiry are deleted. */
const NONCE_SWEEP_MS = 30_000

const CLAIM_NONCE = 'INSERT INTO partner_nonces (region, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING nonce'
// The same claim, committed without waiting for its WAL to reach the disk: synchronous_commit
// is set for this statement's own transaction only (set_config's is_local), which ends with it.
const CLAIM_NONCE_FLUSHED_LATER = `
WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO partner_nonces (region, nonce, expires_at) SELECT $1, $2, $3 FROM async ON CONFLICT DO NOTHING RETURNING nonce`

/** Registered partners and the nonces of the partner requests accepted, in PostgreSQL or PGlite. */
export function createPgPartnerStore(db: SqlClient) {
  let lastSweep = 0

  /** True when the nonce is new (and is now claimed); false for a replay. */
  async function claim(statement: string, region: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    // Expired nonces are swept now and then rather than on every request: a nonce kept past its
    // expiry only refuses a request whose signature has expired anyway.
    if (now.getTime() - lastSweep >= NONCE_SWEEP_MS) {
      lastSweep = now.getTime()
      await db.query('DELETE FROM partner_nonces WHERE expires_at < $1', [now])
    }
    const rows = await db.query(statement, [region, nonce, expiresAt])
    return rows.length > 0
  }
  return {
    async list(): Promise<Partner[]> {
      return (await db.query<PartnerRow>('SELECT * FROM partners ORDER BY code')).map(fromRow)
    },
    async get(code: string): Promise<Partner | undefined> {
      const [row] = await db.query<PartnerRow>('SELECT * FROM partners WHERE code = $1', [code])
      return row ? fromRow(row) : undefined
    },
    /** Inserts a new partner; false when the code is registered already. */
    async insert(p: Partner): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO partners (code, name, descriptor_url, root_sha256, base_url, trust_list_jws, trust_list_sequence, trust_list_hash, trust_list_valid_until, registered_at, refreshed_at, last_attempt_at, last_problem)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (code) DO NOTHING RETURNING code`,
        [p.code, p.name, p.descriptorUrl, p.rootSha256, p.baseUrl, p.trustList.jws, p.trustList.sequence, p.trustList.hash, p.trustList.validUntil, p.registeredAt, p.refreshedAt, p.lastAttemptAt, p.lastProblem],
      )
      return rows.length > 0
    },
    /**
     * Saves a newer trust list. The sequence condition makes the database the judge when two
     * processes refresh at once: a list only ever replaces an older one.
     */
    async saveTrustList(code: string, update: { name: string; baseUrl: string; trustList: Partner['trustList']; at: Date }): Promise<boolean> {
      const rows = await db.query(
        `UPDATE partners SET name = $2, base_url = $3, trust_list_jws = $4, trust_list_sequence = $5, trust_list_hash = $6, trust_list_valid_until = $7, refreshed_at = $8, last_attempt_at = $8, last_problem = NULL
         WHERE code = $1 AND trust_list_sequence < $5 RETURNING code`,
        [code, update.name, update.baseUrl, update.trustList.jws, update.trustList.sequence, update.trustList.hash, update.trustList.validUntil, update.at],
      )
      return rows.length > 0
    },
    async recordAttempt(code: string, at: Date, problem: string | null): Promise<void> {
      await db.query('UPDATE partners SET last_attempt_at = $2, last_problem = $3 WHERE code = $1', [code, at, problem])
    },
    /** Claims a nonce, durable when this returns; false when it was seen before (a replay). */
    claimNonce: (region: string, nonce: string, expiresAt: Date, now: Date) => claim(CLAIM_NONCE, region, nonce, expiresAt, now),
    /**
     * Nonce claims for a caller that commits a record of the call before it answers (the partner
     * door's audit entry). A claim is visible to every other transaction once made, so a replay
     * is refused at once, but its commit does not wait for its own WAL flush: the record's
     * commit, later in the same WAL, flushes it too. Whatever the call answered, its nonce is on
     * disk first; only a database crash before that record can lose the claim of a call that
     * then never answered. On PostgreSQL this saves a WAL flush per call; on PGlite it changes
     * nothing measurable.
     */
    claimsFlushedWithTheRecord: {
      claimNonce: (region: string, nonce: string, expiresAt: Date, now: Date) => claim(CLAIM_NONCE_FLUSHED_LATER, region, nonce, expiresAt, now),
    },
  }
}

export type PgPartnerStore = ReturnType<typeof createPgPartnerStore>
