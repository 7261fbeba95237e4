import { serve } from '@hono/node-server'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { createPgliteClient } from '../adapters/postgres/pglite-client'
import { createPostgresClient } from '../adapters/postgres/postgres-client'
import type { SqlClient } from '../adapters/postgres/sql-client'
import { loadConfig, type Config } from '../config'
import { ConfigurationError } from '../core/errors'
import { createApp } from '../http/app'
import { loadCjkFont } from '../adapters/pdf/cjk-font'
import { buildDeps } from './deps'
import { nodePartnerTransport } from './node-partner-transport'
import { developmentAdminToken, loadNodePki } from './node-keys'
import { readPartnerPins, registerPinnedPartners } from './partner-pins'

const STATUS_REFRESH_MS = 2_000
/** How long an idle client connection is kept open. */
const KEEP_ALIVE_MS = 65_000
/** How often agreement steps not yet acknowledged by the partner are sent again. */
const AGREEMENT_RETRY_MS = 10_000
/** The outbox is also polled, for retries falling due and for messages other processes wrote. */
const OUTBOX_POLL_MS = 1_000

export async function openDatabase(config: Config): Promise<SqlClient> {
  if (config.databaseUrl) return createPostgresClient({ url: config.databaseUrl })
  await mkdir(config.dataDir, { recursive: true })
  return createPgliteClient(join(config.dataDir, 'pglite'))
}

/** Starts the service on Node: PGlite in DATA_DIR unless DATABASE_URL is set; dev keys on first start. */
export async function startNodeServer(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env)
  const log = pino({ level: config.logLevel, base: { region: config.region.code } })
  let adminToken = config.adminToken
  if (!adminToken) {
    if (env.NODE_ENV === 'production') throw new ConfigurationError('ADMIN_TOKEN is required when NODE_ENV=production')
    const dev = await developmentAdminToken(config.dataDir)
    adminToken = dev.token
    if (dev.created) process.stdout.write(`\nADMIN_TOKEN (development, generated once, kept in ${dev.path}):\n  ${dev.token}\n\n`)
    else log.info({ path: dev.path }, 'development ADMIN_TOKEN read from file')
  }
  const identity = { regionCode: config.region.code, regionName: config.region.name, bureauName: config.bureau.name }
  const { pki, sealKek, generated, source } = await loadNodePki({ dataDir: config.dataDir, pkiJson: env.TONGBAN_PKI }, identity, new Date())
  if (generated.length > 0) log.info({ generated, source }, 'generated development keys')
  const db = await openDatabase(config)
  const pins = config.partnerPinsDir ? await readPartnerPins(config.partnerPinsDir) : []
  const { deps, statusRegistry, outbox } = await buildDeps({
    config: { ...config, adminToken },
    db,
    pki,
    sealKek,
    loadFont: loadCjkFont,
    log,
    partnerStatusMaxAgeMs: config.partnerStatusMaxAgeSeconds * 1000,
    outboxBackoff: { baseMs: config.outboxRetryBaseSeconds * 1000, capMs: config.outboxRetryCapSeconds * 1000 },
    supervisionSystems: config.supervisionSystems,
    partnerTransport: nodePartnerTransport(),
  })
  const app = createApp(deps)
  // Other processes may change statuses in a shared PostgreSQL; PGlite has this process alone.
  const refresher = config.databaseUrl
    ? setInterval(() => statusRegistry.refreshIfOlderThan(STATUS_REFRESH_MS).catch((err) => log.warn({ err }, 'status refresh failed')), STATUS_REFRESH_MS)
    : undefined
  refresher?.unref()
  // Partners' trust lists on a schedule; pinned partners not reachable at start are registered on a later tick.
  const partnerTick = async () => {
    await registerPinnedPartners(pins, deps.partners.registry, log)
    await deps.partners.registry.refreshDue(config.partnerRefreshSeconds * 1000)
  }
  const partnerRefresher = setInterval(() => partnerTick().catch((err) => log.warn({ err }, 'partner refresh failed')), Math.min(config.partnerRefreshSeconds, 60) * 1000)
  partnerRefresher.unref()
  // Agreement steps a partner has not acknowledged (it was down) are sent again until it has.
  const agreementRetrier = setInterval(() => deps.agreements.deliverPending().catch((err) => log.warn({ err }, 'agreement delivery failed')), AGREEMENT_RETRY_MS)
  agreementRetrier.unref()
  const server = serve({ fetch: app.fetch, port: config.port, hostname: env.HOST ?? '0.0.0.0' })
  // Idle connections are kept longer than clients keep them (undici, partners' tongban: 4 s), so
  // the client always closes first: with Node's 5 s a request sent on a connection the server is
  // closing that moment fails with "other side closed" (seen between two regions under load).
  if ('keepAliveTimeout' in server) {
    server.keepAliveTimeout = KEEP_ALIVE_MS
    server.headersTimeout = KEEP_ALIVE_MS + 1000
  }
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  // Messages left undelivered by the last run (a crash, a restart) go out on the first round.
  outbox.start(OUTBOX_POLL_MS)
  if (pins.length > 0) void partnerTick().catch((err) => log.warn({ err }, 'pinned partners not registered'))
  log.info({ url: config.publicUrl, port: config.port, database: config.databaseUrl ? 'postgresql' : 'pglite' }, `tongban ${config.region.name} (${config.region.code}) listening`)

  async function close() {
    if (refresher) clearInterval(refresher)
    clearInterval(partnerRefresher)
    clearInterval(agreementRetrier)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await outbox.stop()
    await db.close()
  }
  return { app, config, outbox, close }
}
