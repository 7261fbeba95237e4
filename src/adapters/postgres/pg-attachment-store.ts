import type { AttachmentStore, AttachmentWrites, HeldAttachment } from '../../core/ports'
import { fromBase64, toBase64 } from '../crypto/x509'
import type { SqlClient } from './sql-client'

interface AttachmentRow {
  sha256: string
  media_type: string
  size: number
  created_at: Date
}

const COLUMNS = 'sha256, media_type, size, created_at'
const isSha256 = (value: string) => /^[0-9a-f]{64}$/.test(value)

function toAttachment(row: AttachmentRow): HeldAttachment {
  return { sha256: row.sha256, mediaType: row.media_type, size: Number(row.size), createdAt: new Date(row.created_at) }
}

function withContent(row: (AttachmentRow & { content: string }) | undefined) {
  // Kept as base64 text: the same parameter on PGlite and postgres.js, whatever each makes of bytea.
  return row ? { attachment: toAttachment(row), content: fromBase64(row.content) } : undefined
}

async function heldAttachments(db: SqlClient, sha256s: readonly string[]): Promise<HeldAttachment[]> {
  const wanted = [...new Set(sha256s)].filter(isSha256)
  if (wanted.length === 0) return []
  // The digests go as one JSON text parameter, which both databases read the same way (see SqlClient).
  const rows = await db.query<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE sha256 IN (SELECT jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(wanted)])
  return rows.map(toAttachment)
}

export function attachmentWrites(tx: SqlClient): AttachmentWrites {
  return {
    heldAttachments: (sha256s) => heldAttachments(tx, sha256s),
    async offerAttachments(applicationId, region, sha256s) {
      for (const sha256 of new Set(sha256s)) {
        await tx.query('INSERT INTO attachment_offers (region, sha256, application_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [region, sha256, applicationId])
      }
    },
  }
}

export function attachmentStore(db: SqlClient): AttachmentStore {
  return {
    heldAttachments: (sha256s) => heldAttachments(db, sha256s),
    async storeAttachment(a, content) {
      const inserted = await db.query(
        'INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING RETURNING sha256',
        [a.sha256, a.mediaType, a.size, toBase64(content), a.createdAt],
      )
      return inserted.length > 0
    },
    async attachmentContent(sha256) {
      if (!isSha256(sha256)) return undefined
      const [row] = await db.query<AttachmentRow & { content: string }>(`SELECT ${COLUMNS}, content FROM attachments WHERE sha256 = $1`, [sha256])
      return withContent(row)
    },
    async attachmentOfferedTo(region, sha256) {
      if (!isSha256(sha256)) return undefined
      const [row] = await db.query<AttachmentRow & { content: string }>(
        `SELECT ${COLUMNS}, content FROM attachments a
         WHERE sha256 = $1 AND EXISTS (SELECT 1 FROM attachment_offers o WHERE o.region = $2 AND o.sha256 = a.sha256)`,
        [sha256, region],
      )
      return withContent(row)
    },
  }
}
