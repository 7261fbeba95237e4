import type { TrustAnchor } from '../../core/ports'
import type { SqlClient } from './sql-client'

/** Trust anchors an admin added for PDFs signed outside the region's PKI. */
export function createPgTrustAnchors(db: SqlClient) {
  return {
    async list(): Promise<TrustAnchor[]> {
      const rows = await db.query<{ id: string; sha256: string; subject: string; label: string | null; certificate: string; created_at: Date }>(
        'SELECT id, sha256, subject, label, certificate, created_at FROM trust_anchors ORDER BY created_at, id',
      )
      return rows.map((r) => ({ id: r.id, sha256: r.sha256, subject: r.subject, label: r.label, certificate: r.certificate, createdAt: new Date(r.created_at) }))
    },
    /** Adds an anchor; the one already stored when its fingerprint is known. */
    async add(anchor: TrustAnchor): Promise<{ anchor: TrustAnchor; created: boolean }> {
      const inserted = await db.query(
        'INSERT INTO trust_anchors (id, sha256, subject, label, certificate, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING RETURNING id',
        [anchor.id, anchor.sha256, anchor.subject, anchor.label, anchor.certificate, anchor.createdAt],
      )
      if (inserted.length > 0) return { anchor, created: true }
      return { anchor: (await this.list()).find((a) => a.sha256 === anchor.sha256) as TrustAnchor, created: false }
    },
  }
}

export type PgTrustAnchors = ReturnType<typeof createPgTrustAnchors>
