import { AsyncLocalStorage } from 'node:async_hooks'
import { PKI_ROLES, type PkiRole, type RegionPki } from '../adapters/crypto/pki'
import { importPkiBundle, sealKekBytes, type PkiBundle } from '../adapters/crypto/pki-bundle'
import { createPostgresClient } from '../adapters/postgres/postgres-client'
import type { SqlClient } from '../adapters/postgres/sql-client'
import { loadConfig } from '../config'
import { ConfigurationError, ServiceUnavailableError } from '../core/errors'
import { createApp } from '../http/app'
import type { Logger } from '../http/deps'
import { buildDeps, type BuiltDeps } from './deps'

/**
 * The Cloudflare Workers entry: the same app as on Node, with PostgreSQL through Hyperdrive and
 * the region's keys from the TONGBAN_PKI secret. Nothing here may import a Node-only module
 * (node:fs, pino, PGlite): test/runtime/worker.test.ts bundles it and looks.
 */
export interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string }
  /** Secret: the PKI bundle JSON (src/adapters/crypto/pki-bundle.ts); see keys/README.md. */
  TONGBAN_PKI?: string
  /**
   * KV namespace holding the CJK TrueType font under the key `cjk-font` (see keys/README.md): at
   * ~15 MB it is too large for the Worker bundle. Seals and licence PDFs answer 503 without it.
   */
  TONGBAN_FONT?: { get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null> }
  /** Secret: the bearer token of the admin API. */
  ADMIN_TOKEN?: string
  REGION_CODE?: string
  REGION_NAME?: string
  PUBLIC_URL?: string
  BUREAU_NAME?: string
  BUREAU_USCC?: string
  LOG_LEVEL?: string
  [binding: string]: unknown
}

export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void
  passThroughOnException?(): void
}

/** Other isolates write to the same database; statuses older than this are reloaded before answering. */
const STATUS_REFRESH_MS = 2_000
/** Hyperdrive pools the real connections; a request needs few of its own (Workers limit open sockets). */
const CONNECTIONS_PER_REQUEST = 5
/** Keys the running service signs with; the root and issuing CA keys may be (and should be) absent. */
const SIGNING_ROLES: PkiRole[] = ['document-signer', 'trust-list-signer', 'seal-ca', 'bureau-seal', 'partner-auth', 'attestation-signer']

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

function serialisable(value: unknown): unknown {
  if (!(value instanceof Error)) return value
  return { type: value.name, message: value.message, code: (value as { code?: unknown }).code, stack: value.stack }
}

/** One JSON object per line on the console, which Workers Logs indexes; pino is Node-only. */
export function consoleLogger(base: Record<string, unknown>, level = 'info'): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]))
  const emit = (name: 'info' | 'warn' | 'error', write: (line: string) => void) => (object: object, message?: string) => {
    if (LEVELS.indexOf(name) < threshold) return
    const fields = Object.fromEntries(Object.entries(object).map(([key, value]) => [key, serialisable(value)]))
    write(JSON.stringify({ level: name, time: new Date().toISOString(), ...base, ...fields, ...(message ? { msg: message } : {}) }))
  }
  return { info: emit('info', console.log), warn: emit('warn', console.warn), error: emit('error', console.error) }
}

/** Reads the PKI from the secret; a missing role or signing key stops the service with a message that says so. */
export async function loadWorkerPki(json: string | undefined): Promise<RegionPki> {
  const howTo = 'store the bundle printed by `npx tongban keys init --print` with `wrangler secret put TONGBAN_PKI` (keys/README.md)'
  if (!json) throw new ConfigurationError(`TONGBAN_PKI is not set: ${howTo}`)
  let bundle: PkiBundle
  try {
    bundle = JSON.parse(json) as PkiBundle
  } catch {
    // The parser's message quotes the input, which here is private key material: never pass it on.
    throw new ConfigurationError(`TONGBAN_PKI is not JSON: ${howTo}`)
  }
  let pki: Partial<RegionPki>
  try {
    pki = await importPkiBundle(bundle)
  } catch (cause) {
    throw new ConfigurationError(`TONGBAN_PKI is not a usable PKI bundle (${(cause as Error).message}): ${howTo}`)
  }
  const missing = PKI_ROLES.filter((role) => !pki[role])
  if (missing.length > 0) throw new ConfigurationError(`TONGBAN_PKI lacks ${missing.join(', ')}: ${howTo}`)
  const keyless = SIGNING_ROLES.filter((role) => !pki[role]?.privateKey)
  if (keyless.length > 0) throw new ConfigurationError(`TONGBAN_PKI has no private key for ${keyless.join(', ')}: ${howTo}`)
  return pki as RegionPki
}

/**
 * Workers may not use a socket opened for one request while serving another, so each request
 * gets its own postgres.js client over Hyperdrive (which keeps the real pool) and the deps,
 * built once per isolate, reach it through this request-scoped client.
 */
function requestScopedDatabase(): { db: SqlClient; run<T>(client: SqlClient, work: () => Promise<T>): Promise<T> } {
  const storage = new AsyncLocalStorage<SqlClient>()
  const current = (): SqlClient => {
    const client = storage.getStore()
    if (!client) throw new Error('no database client outside a request')
    return client
  }
  const db: SqlClient = {
    query: <T>(text: string, params?: unknown[]) => current().query<T>(text, params),
    exec: (text: string) => current().exec(text),
    transaction: <T>(work: (tx: SqlClient) => Promise<T>) => current().transaction(work),
    close: async () => {},
  }
  return { db, run: (client, work) => storage.run(client, work) }
}

function problem(status: number, code: string, detail: string, url: string): Response {
  const body = { type: `https://tongban.dev/problems/${code}`, title: 'Service Unavailable', status, code, detail, instance: new URL(url).pathname }
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', 'retry-after': '30' } })
}

let font: Promise<Uint8Array> | undefined

/** The CJK font from the TONGBAN_FONT KV namespace, read once per isolate. */
function loadWorkerFont(env: WorkerEnv): Promise<Uint8Array> {
  font ??= (async () => {
    const bytes = await env.TONGBAN_FONT?.get('cjk-font', 'arrayBuffer')
    if (!bytes) throw new ServiceUnavailableError('font_unavailable', 'the CJK font is not in the TONGBAN_FONT KV namespace; seals and licence PDFs need it')
    return new Uint8Array(bytes)
  })().catch((error: unknown) => {
    font = undefined
    throw error
  })
  return font
}

interface Service {
  app: ReturnType<typeof createApp>
  built: BuiltDeps
}

export function createWorker() {
  const database = requestScopedDatabase()
  let service: Promise<Service> | undefined
  let workerLog = consoleLogger({ runtime: 'workers' })

  async function start(env: WorkerEnv): Promise<Service> {
    const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
    const config = loadConfig(vars)
    if (!env.PUBLIC_URL) throw new ConfigurationError('PUBLIC_URL is required on Workers: it is the issuer id in every credential (wrangler.toml [vars])')
    if (!config.adminToken) throw new ConfigurationError('ADMIN_TOKEN is required: set it with `wrangler secret put ADMIN_TOKEN`')
    const log = consoleLogger({ runtime: 'workers', region: config.region.code }, config.logLevel)
    workerLog = log
    const pki = await loadWorkerPki(env.TONGBAN_PKI)
    let sealKek: Uint8Array
    try {
      sealKek = sealKekBytes(JSON.parse(env.TONGBAN_PKI as string) as PkiBundle)
    } catch {
      throw new ConfigurationError('TONGBAN_PKI has no sealKek: add one with `npx tongban keys init --print` (keys/README.md)')
    }
    // Migrations run here, on the first request an isolate serves.
    const built = await buildDeps({
      config: { ...config, adminToken: config.adminToken },
      db: database.db,
      pki,
      sealKek,
      loadFont: () => loadWorkerFont(env),
      log,
      outboxBackoff: { baseMs: config.outboxRetryBaseSeconds * 1000, capMs: config.outboxRetryCapSeconds * 1000 },
      supervisionSystems: config.supervisionSystems,
    })
    log.info({ url: config.publicUrl }, `tongban ${config.region.name} (${config.region.code}) ready`)
    return { app: createApp(built.deps), built }
  }

  function serviceFor(env: WorkerEnv): Promise<Service> {
    service ??= start(env).catch((error: unknown) => {
      // A configuration problem stays until the next deploy; anything else (the database) may pass.
      if (!(error instanceof ConfigurationError)) service = undefined
      throw error
    })
    return service
  }

  return {
    /**
     * Workers have no background timer: the outbox (supervision events, partner messages) is
     * delivered by a Cron Trigger (wrangler.toml [triggers]), one drain per tick.
     */
    async scheduled(_event: unknown, env: WorkerEnv, ctx: WorkerContext): Promise<void> {
      if (!env.HYPERDRIVE?.connectionString) {
        workerLog.error({ problem: 'no HYPERDRIVE binding' }, 'tongban cannot deliver its outbox')
        return
      }
      const client = createPostgresClient({ url: env.HYPERDRIVE.connectionString, max: CONNECTIONS_PER_REQUEST })
      try {
        await database.run(client, async () => {
          const running = await serviceFor(env)
          await running.built.outbox.drain()
        })
      } catch (error) {
        workerLog.error({ err: error }, 'outbox round failed')
      } finally {
        ctx.waitUntil(client.close())
      }
    },

    async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
      if (!env.HYPERDRIVE?.connectionString) {
        workerLog.error({ problem: 'no HYPERDRIVE binding' }, 'tongban cannot start')
        return problem(503, 'invalid_configuration', 'the HYPERDRIVE binding is missing (wrangler.toml [[hyperdrive]])', request.url)
      }
      const client = createPostgresClient({ url: env.HYPERDRIVE.connectionString, max: CONNECTIONS_PER_REQUEST })
      try {
        return await database.run(client, async () => {
          let running: Service
          try {
            running = await serviceFor(env)
          } catch (error) {
            workerLog.error({ err: error }, 'tongban cannot start')
            return error instanceof ConfigurationError
              ? problem(503, error.code, error.message, request.url)
              : problem(503, 'unavailable', 'the service could not start; the cause is logged', request.url)
          }
          // As on Node, a failed reload keeps the last copy and says so; the next request tries again.
          await running.built.statusRegistry.refreshIfOlderThan(STATUS_REFRESH_MS).catch((error: unknown) => workerLog.warn({ err: error }, 'status refresh failed'))
          return running.app.fetch(request, env, ctx as never)
        })
      } finally {
        ctx.waitUntil(client.close())
      }
    },
  }
}

export default createWorker()
