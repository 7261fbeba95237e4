import type { SupervisionReads, SupervisionSystem, SupervisionSystemStore } from '../../core/supervision/supervision-system'
import type { SqlClient } from './sql-client'

interface SystemRow {
  id: string
  name: string
  webhook_url: string
  public_key: SupervisionSystem['publicKey']
  keyid: string
  created_at: Date
  updated_at: Date
}

function toSystem(row: SystemRow): SupervisionSystem {
  return { id: row.id, name: row.name, webhookUrl: row.webhook_url, publicKey: row.public_key, keyid: row.keyid, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at) }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function supervisionReads(db: SqlClient): SupervisionReads {
  return {
    async listSupervisionSystems() {
      return (await db.query<SystemRow>('SELECT * FROM supervision_systems ORDER BY created_at, name')).map(toSystem)
    },
  }
}

/** Registered supervision systems in PostgreSQL or PGlite. */
export function createPgSupervisionStore(db: SqlClient): SupervisionSystemStore {
  return {
    list: () => supervisionReads(db).listSupervisionSystems(),
    async get(id) {
      if (!UUID.test(id)) return undefined
      const [row] = await db.query<SystemRow>('SELECT * FROM supervision_systems WHERE id = $1', [id])
      return row ? toSystem(row) : undefined
    },
    async findByKeyid(keyid) {
      const [row] = await db.query<SystemRow>('SELECT * FROM supervision_systems WHERE keyid = $1', [keyid])
      return row ? toSystem(row) : undefined
    },
    async insert(s) {
      return db.transaction(async (tx) => {
        const [taken] = await tx.query<{ name: string; keyid: string }>('SELECT name, keyid FROM supervision_systems WHERE name = $1 OR keyid = $2 LIMIT 1', [s.name, s.keyid])
        if (taken) return taken.name === s.name ? 'name' : 'keyid'
        const rows = await tx.query(
          `INSERT INTO supervision_systems (id, name, webhook_url, public_key, keyid, created_at, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
           ON CONFLICT DO NOTHING RETURNING id`,
          [s.id, s.name, s.webhookUrl, JSON.stringify(s.publicKey), s.keyid, s.createdAt, s.updatedAt],
        )
        // A concurrent registration won the race between the check and the insert.
        return rows.length > 0 ? 'inserted' : 'name'
      })
    },
    async upsertByName(s) {
      return db.transaction(async (tx) => {
        const [other] = await tx.query('SELECT id FROM supervision_systems WHERE keyid = $1 AND name <> $2', [s.keyid, s.name])
        if (other) return 'keyid'
        await tx.query(
          `INSERT INTO supervision_systems (id, name, webhook_url, public_key, keyid, created_at, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
           ON CONFLICT (name) DO UPDATE SET webhook_url = EXCLUDED.webhook_url, public_key = EXCLUDED.public_key, keyid = EXCLUDED.keyid, updated_at = EXCLUDED.updated_at`,
          [s.id, s.name, s.webhookUrl, JSON.stringify(s.publicKey), s.keyid, s.createdAt, s.updatedAt],
        )
        return 'saved'
      })
    },
  }
}
