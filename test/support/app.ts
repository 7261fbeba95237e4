import { completeRegionPki, type RegionPki } from '../../src/adapters/crypto/pki'
import { loadCjkFont } from '../../src/adapters/pdf/cjk-font'
import type { SqlClient } from '../../src/adapters/postgres/sql-client'
import { developmentBureauUscc } from '../../src/config'
import type { BackoffPolicy } from '../../src/core/outbox/backoff'
import type { Clock, JwsSigner } from '../../src/core/ports'
import { createApp } from '../../src/http/app'
import type { Logger } from '../../src/http/deps'
import { buildDeps, type BuiltDeps } from '../../src/runtime/deps'
import { createTestDatabase } from './database'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'

export interface TestAppOptions {
  regionCode?: string
  regionName?: string
  publicUrl?: string
  clock?: Clock
  pki?: RegionPki
  sealKek?: Uint8Array
  wrapSigner?: (signer: JwsSigner) => JwsSigner
  fetch?: typeof fetch
  partnerStatusMaxAgeMs?: number
  outboxBackoff?: BackoffPolicy
}

export interface TestApp extends BuiltDeps {
  app: ReturnType<typeof createApp>
  db: SqlClient
  pki: RegionPki
  logged: unknown[]
  request(method: string, path: string, init?: { json?: unknown; body?: BodyInit; token?: string | null; headers?: Record<string, string> }): Promise<Response>
  close(): Promise<void>
}

const pkiCache = new Map<string, Promise<RegionPki>>()

/** A region's PKI, generated once per test file and region. */
export function testPki(regionCode = '360700', regionName = '赣州市'): Promise<RegionPki> {
  let pki = pkiCache.get(regionCode)
  if (!pki) {
    pki = completeRegionPki({ regionCode, regionName, bureauName: `${regionName}行政审批局` }, {}, new Date()).then((r) => r.pki)
    pkiCache.set(regionCode, pki)
  }
  return pki
}

/** The real app on a real database (PGlite, or PostgreSQL with DATABASE_URL), driven through app.request. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const regionCode = options.regionCode ?? '360700'
  const regionName = options.regionName ?? '赣州市'
  const pki = options.pki ?? (await testPki(regionCode, regionName))
  const db = await createTestDatabase()
  const logged: unknown[] = []
  const log: Logger = { info: () => {}, warn: () => {}, error: (object) => logged.push(object) }
  const built = await buildDeps({
    config: {
      publicUrl: options.publicUrl ?? 'http://tongban.test',
      region: { code: regionCode, name: regionName },
      bureau: { name: `${regionName}行政审批局`, uscc: developmentBureauUscc(regionCode) },
      adminToken: ADMIN_TOKEN,
    },
    db,
    pki,
    sealKek: options.sealKek ?? crypto.getRandomValues(new Uint8Array(32)),
    loadFont: loadCjkFont,
    log,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.wrapSigner ? { wrapSigner: options.wrapSigner } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.partnerStatusMaxAgeMs !== undefined ? { partnerStatusMaxAgeMs: options.partnerStatusMaxAgeMs } : {}),
    ...(options.outboxBackoff ? { outboxBackoff: options.outboxBackoff } : {}),
  })
  const app = createApp(built.deps)
  return {
    ...built,
    app,
    db,
    pki,
    logged,
    request(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers }
      if (init.token !== null) headers.authorization ??= `Bearer ${init.token ?? ADMIN_TOKEN}`
      let body = init.body
      if (init.json !== undefined) {
        headers['content-type'] ??= 'application/json'
        body = JSON.stringify(init.json)
      }
      return Promise.resolve(app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }))
    },
    async close() {
      await built.outbox.stop()
      await db.close()
    },
  }
}
