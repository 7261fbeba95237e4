import type { Seal, SealUse } from '../../core/seal/seal'
import type { MadeSeal, SealStore, SealStoreTransaction } from '../../core/seal/seal-service'
import type { SqlClient } from './sql-client'

interface SealRow {
  id: string
  kind: Seal['kind']
  owner_uscc: string
  owner_name: string
  name: string
  status: Seal['status']
  status_reason: string | null
  key_source: Seal['keySource']
  algorithm: Seal['algorithm']
  certificate: string
  chain: string[]
  certificate_sha256: string
  ses_seal: string
  image_svg: string
  valid_from: Date
  valid_until: Date
  created_at: Date
}

const SEAL_COLUMNS = `id, kind, owner_uscc, owner_name, name, status, status_reason, key_source, algorithm, certificate, chain,
  certificate_sha256, ses_seal, image_svg, valid_from, valid_until, created_at`

function toSeal(row: SealRow): Seal {
  return {
    id: row.id,
    kind: row.kind,
    owner: { uscc: row.owner_uscc, name: row.owner_name },
    name: row.name,
    status: row.status,
    statusReason: row.status_reason,
    keySource: row.key_source,
    algorithm: row.algorithm,
    certificate: row.certificate,
    chain: row.chain,
    certificateSha256: row.certificate_sha256,
    sesSeal: row.ses_seal,
    imageSvg: row.image_svg,
    validFrom: new Date(row.valid_from),
    validUntil: new Date(row.valid_until),
    createdAt: new Date(row.created_at),
  }
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)

function transaction(tx: SqlClient): SealStoreTransaction {
  return {
    async activeSealKinds(uscc) {
      const rows = await tx.query<{ kind: Seal['kind'] }>("SELECT kind FROM seals WHERE owner_uscc = $1 AND status = 'active' FOR UPDATE", [uscc])
      return rows.map((row) => row.kind)
    },
    async insertSeal({ seal, wrappedKey }: MadeSeal) {
      await tx.query(
        `INSERT INTO seals (id, kind, owner_uscc, owner_name, name, status, status_reason, key_source, algorithm, certificate, chain,
           certificate_sha256, ses_seal, image_svg, wrapped_key, valid_from, valid_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15, $16, $17, $18)`,
        [
          seal.id, seal.kind, seal.owner.uscc, seal.owner.name, seal.name, seal.status, seal.statusReason, seal.keySource, seal.algorithm,
          seal.certificate, JSON.stringify(seal.chain), seal.certificateSha256, seal.sesSeal, seal.imageSvg, wrappedKey,
          seal.validFrom, seal.validUntil, seal.createdAt,
        ],
      )
    },
    async lockSeal(id) {
      if (!isUuid(id)) return undefined
      const [row] = await tx.query<SealRow>(`SELECT ${SEAL_COLUMNS} FROM seals WHERE id = $1 FOR UPDATE`, [id])
      return row ? toSeal(row) : undefined
    },
    async updateSealStatus(id, status, reason) {
      await tx.query('UPDATE seals SET status = $2, status_reason = $3 WHERE id = $1', [id, status, reason])
    },
    async insertSealUse(use: SealUse) {
      await tx.query('INSERT INTO seal_uses (seal_id, actor, purpose, document_sha256, signed_sha256, at) VALUES ($1, $2, $3, $4, $5, $6)', [
        use.sealId, use.actor, use.purpose, use.documentSha256, use.signedSha256, use.at,
      ])
    },
    async createEnterpriseCredential(uscc, name, tokenHash, at) {
      const rows = await tx.query(
        'INSERT INTO enterprise_credentials (uscc, name, token_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (uscc) DO NOTHING RETURNING uscc',
        [uscc, name, tokenHash, at],
      )
      return rows.length > 0
    },
  }
}

export function createPgSealStore(db: SqlClient): SealStore {
  return {
    transaction: (work) => db.transaction((tx) => work(transaction(tx))),
    async getSeal(id) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<SealRow>(`SELECT ${SEAL_COLUMNS} FROM seals WHERE id = $1`, [id])
      return row ? toSeal(row) : undefined
    },
    async getWrappedSealKey(id) {
      if (!isUuid(id)) return undefined
      const [row] = await db.query<{ wrapped_key: string }>('SELECT wrapped_key FROM seals WHERE id = $1', [id])
      return row?.wrapped_key
    },
    async listSeals(uscc) {
      return (await db.query<SealRow>(`SELECT ${SEAL_COLUMNS} FROM seals WHERE owner_uscc = $1 ORDER BY created_at, id`, [uscc])).map(toSeal)
    },
    async listSealUses(sealId) {
      const rows = await db.query<{ actor: string; purpose: string; document_sha256: string; signed_sha256: string; at: Date }>(
        'SELECT actor, purpose, document_sha256, signed_sha256, at FROM seal_uses WHERE seal_id = $1 ORDER BY id',
        [sealId],
      )
      return rows.map((row) => ({ sealId, actor: row.actor, purpose: row.purpose, documentSha256: row.document_sha256, signedSha256: row.signed_sha256, at: new Date(row.at) }))
    },
    async listSealStatuses() {
      return db.query<{ sha256: string; id: string; name: string; kind: Seal['kind']; status: Seal['status']; statusReason: string | null }>(
        'SELECT certificate_sha256 AS sha256, id, name, kind, status, status_reason AS "statusReason" FROM seals',
      )
    },
    async enterpriseByTokenHash(tokenHash) {
      const [row] = await db.query<{ uscc: string; name: string }>('SELECT uscc, name FROM enterprise_credentials WHERE token_hash = $1', [tokenHash])
      return row
    },
  }
}
