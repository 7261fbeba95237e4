import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrations'
import { createPgStore } from '../../../src/adapters/postgres/pg-store'
import type { SqlClient } from '../../../src/adapters/postgres/sql-client'
import type { Application } from '../../../src/core/application/application'
import type { HeldAttachment, Store } from '../../../src/core/ports'
import { createTestDatabase } from '../../support/database'

/**
 * The attachment store against a real database (PGlite, or PostgreSQL with DATABASE_URL): bytes
 * come back exactly as they went in, a digest is held once, and a document is served to a
 * partner only when it was offered to that partner.
 */

let db: SqlClient
let store: Store
beforeAll(async () => {
  db = await createTestDatabase()
  await migrate(db)
  store = createPgStore(db)
})
afterAll(() => db.close())

function held(content: Uint8Array): HeldAttachment {
  return { sha256: createHash('sha256').update(content).digest('hex'), mediaType: 'application/pdf', size: content.length, createdAt: new Date('2026-12-04T08:00:00.000Z') }
}

function application(): Application {
  const at = new Date()
  return {
    id: crypto.randomUUID(),
    matterCode: 'enterprise-establishment',
    applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
    form: {},
    attachments: [],
    acceptingRegion: { code: '360700', name: '赣州市' },
    handlingRegion: { code: '440307', name: '深圳市龙岗区' },
    status: 'received',
    resumeStatus: null,
    licenceId: null,
    sequence: 1,
    createdAt: at,
    updatedAt: at,
  }
}

describe('the attachment store', () => {
  it('gives back every byte value as stored, and holds a digest once', async () => {
    const content = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)
    const attachment = held(content)
    expect(await store.storeAttachment(attachment, content)).toBe(true)
    expect(await store.storeAttachment(attachment, content)).toBe(false)
    expect(await store.attachmentContent(attachment.sha256)).toEqual({ attachment, content })
  })

  it('lists only the digests held, whatever else is asked for', async () => {
    const content = new TextEncoder().encode('%PDF-1.4 listed')
    const attachment = held(content)
    await store.storeAttachment(attachment, content)
    const asked = [attachment.sha256, attachment.sha256, 'f'.repeat(64), 'not hex', "'; DROP TABLE attachments; --"]
    expect(await store.heldAttachments(asked)).toEqual([attachment])
    expect(await store.heldAttachments([])).toEqual([])
    expect(await store.transaction((tx) => tx.heldAttachments(asked))).toEqual([attachment])
  })

  it('serves a document to a region only after it was offered to it, with an application', async () => {
    const content = new TextEncoder().encode('%PDF-1.4 offered')
    const attachment = held(content)
    await store.storeAttachment(attachment, content)
    expect(await store.attachmentOfferedTo('440307', attachment.sha256)).toBeUndefined()

    const offeredWith = application()
    await store.transaction(async (tx) => {
      await tx.insertApplication(offeredWith)
      await tx.offerAttachments(offeredWith.id, '440307', [attachment.sha256, attachment.sha256])
    })
    expect(await store.attachmentOfferedTo('440307', attachment.sha256)).toEqual({ attachment, content })
    expect(await store.attachmentOfferedTo('110105', attachment.sha256)).toBeUndefined()
    expect(await store.attachmentOfferedTo('440307', 'not hex')).toBeUndefined()
  })

  it('refuses to offer a document that is not held, and rolls the transaction back', async () => {
    const refused = application()
    await expect(
      store.transaction(async (tx) => {
        await tx.insertApplication(refused)
        await tx.offerAttachments(refused.id, '440307', ['e'.repeat(64)])
      }),
    ).rejects.toThrow()
    expect(await store.getApplication(refused.id)).toBeUndefined()
  })
})
