import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { exportPkiBundle, withSealKek, type PkiBundle } from '../../src/adapters/crypto/pki-bundle'
import { createWorker, type WorkerEnv } from '../../src/runtime/worker'
import { testPki } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'

const ROOT = resolve(import.meta.dirname, '../..')
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler')
const ADMIN_TOKEN = 'worker-admin-token-0123456789'
const DATABASE_URL = process.env.DATABASE_URL

/** The region's bundle as it is deployed: the root's private key stays offline. */
async function deployedBundle(): Promise<PkiBundle> {
  const { bundle } = withSealKek(await exportPkiBundle(await testPki()))
  const { privateKey: _offline, ...root } = bundle.roles.root as { certificate: string; privateKey?: string }
  return { ...bundle, roles: { ...bundle.roles, root } }
}

function workerEnv(overrides: Partial<WorkerEnv> = {}): WorkerEnv {
  return {
    HYPERDRIVE: { connectionString: 'postgres://nobody:none@127.0.0.1:9/none' },
    REGION_CODE: '360700',
    REGION_NAME: '赣州市',
    PUBLIC_URL: 'http://tongban.test',
    ADMIN_TOKEN,
    ...overrides,
  }
}

/** Calls a worker as the runtime does, then waits for what it handed to waitUntil (closing its database client). */
async function call(worker: ReturnType<typeof createWorker>, env: WorkerEnv, path: string, init: RequestInit = {}) {
  const pending: Promise<unknown>[] = []
  const response = await worker.fetch(new Request(`http://tongban.test${path}`, init), env, { waitUntil: (p) => void pending.push(p) })
  const body = await response.text()
  await Promise.all(pending)
  return { status: response.status, type: response.headers.get('content-type'), body, json: () => JSON.parse(body) }
}

const asAdmin = (json: unknown): RequestInit => ({
  method: 'POST',
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify(json),
})

describe('the Workers bundle', () => {
  it('builds with wrangler and carries no Node-only module', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'tongban-worker-'))
    try {
      execFileSync(WRANGLER, ['deploy', '--dry-run', '--outdir', outdir], {
        cwd: ROOT,
        timeout: 180_000,
        stdio: 'pipe',
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      })
      const bundle = join(outdir, 'worker.js')
      expect(existsSync(bundle)).toBe(true)
      expect(statSync(bundle).size).toBeGreaterThan(100_000)
      const code = readFileSync(bundle, 'utf8')
      expect(code).not.toMatch(/["']node:fs(\/promises)?["']/)
      expect(code).not.toContain('@electric-sql/pglite')
      expect(code).not.toMatch(/["']pino["']/)
      // postgres.js's Workers build (cloudflare:sockets), not its Node one (node:net).
      expect(code).toContain('cloudflare:sockets')
      expect(code).not.toMatch(/["']node:net["']/)
    } finally {
      rmSync(outdir, { recursive: true, force: true })
    }
  }, 240_000)
})

describe('the worker refuses to start without its configuration', () => {
  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
  })
  afterAll(() => {
    vi.restoreAllMocks()
  })

  const problem = async (env: WorkerEnv) => {
    const answer = await call(createWorker(), env, '/healthz')
    expect(answer.status).toBe(503)
    expect(answer.type).toBe('application/problem+json')
    return answer.json() as { code: string; detail: string }
  }

  it('names a missing Hyperdrive binding', async () => {
    expect(await problem(workerEnv({ HYPERDRIVE: undefined }))).toMatchObject({ code: 'invalid_configuration', detail: expect.stringContaining('HYPERDRIVE') })
  })

  it('names a missing TONGBAN_PKI and says how to make one', async () => {
    const body = await problem(workerEnv())
    expect(body.code).toBe('invalid_configuration')
    expect(body.detail).toContain('TONGBAN_PKI is not set')
    expect(body.detail).toContain('keys init --print')
  })

  it('requires ADMIN_TOKEN and PUBLIC_URL', async () => {
    const pki = JSON.stringify(await deployedBundle())
    expect((await problem(workerEnv({ TONGBAN_PKI: pki, ADMIN_TOKEN: undefined }))).detail).toContain('ADMIN_TOKEN is required')
    expect((await problem(workerEnv({ TONGBAN_PKI: pki, PUBLIC_URL: undefined }))).detail).toContain('PUBLIC_URL is required')
  })

  it('names the role a bundle lacks, and a signing role without its key', async () => {
    const bundle = await deployedBundle()
    const { 'trust-list-signer': _dropped, ...withoutSigner } = bundle.roles
    expect((await problem(workerEnv({ TONGBAN_PKI: JSON.stringify({ version: 1, roles: withoutSigner }) }))).detail).toContain('lacks trust-list-signer')
    const keyless = { ...bundle.roles, 'document-signer': { certificate: bundle.roles['document-signer']?.certificate as string } }
    expect((await problem(workerEnv({ TONGBAN_PKI: JSON.stringify({ version: 1, roles: keyless }) }))).detail).toContain('no private key for document-signer')
  })

  it('never repeats the secret when it is not JSON', async () => {
    const body = await problem(workerEnv({ TONGBAN_PKI: '{"version":1,"roles":{"document-signer":{"privateKey":"-----BEGIN PRIVATE KEY-----\\nSECRETKEYMATERIAL' }))
    expect(body.detail).toContain('TONGBAN_PKI is not JSON')
    expect(JSON.stringify(body)).not.toContain('SECRETKEYMATERIAL')
  })
})

/**
 * Hyperdrive hands the worker a plain connection string, so a fresh schema per run is chosen
 * through the libpq `options` startup parameter, which postgres.js passes on from the URL.
 */
describe.skipIf(!DATABASE_URL)('the worker fetch handler on Node, PostgreSQL through a connection string', () => {
  const schema = `w_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(DATABASE_URL as string, { max: 1, onnotice: () => {} })
  let env: WorkerEnv

  beforeAll(async () => {
    await admin.unsafe(`CREATE SCHEMA ${schema}`)
    const url = new URL(DATABASE_URL as string)
    url.searchParams.set('options', `-c search_path=${schema}`)
    env = workerEnv({ HYPERDRIVE: { connectionString: url.toString() }, TONGBAN_PKI: JSON.stringify(await deployedBundle()) })
  })
  afterAll(async () => {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  })

  it('migrates on the first request, answers /healthz, issues and verifies; a second isolate sees a suspension', async () => {
    const first = createWorker()
    expect((await call(first, env, '/healthz')).json()).toEqual({ status: 'ok' })
    expect(await admin.unsafe(`SELECT id FROM ${schema}.schema_migrations`)).not.toHaveLength(0)

    const issued = await call(first, env, '/v1/licences', asAdmin(businessLicenceRequest()))
    expect(issued.status).toBe(201)
    const licence = issued.json()
    const verify = (worker: ReturnType<typeof createWorker>) =>
      call(worker, env, '/v1/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: licence.credential }) }).then((r) => r.json())
    expect(await verify(first)).toMatchObject({ indication: 'TOTAL_PASSED', issuer: { regionCode: '360700' } })

    const second = createWorker()
    expect(await verify(second)).toMatchObject({ indication: 'TOTAL_PASSED' })
    expect((await call(first, env, `/v1/licences/${licence.id}/suspend`, asAdmin({ reason: '现场检查' }))).status).toBe(200)
    await new Promise((done) => setTimeout(done, 2_100))
    expect(await verify(second)).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' })
  }, 60_000)
})

/**
 * The real runtime: wrangler starts workerd with the bundle, and Miniflare's local Hyperdrive
 * proxies to a database made for this run. Many requests at once prove that no request uses a
 * socket another request opened (Workers forbid that).
 */
describe.skipIf(!DATABASE_URL)('the worker in workerd (wrangler dev), PostgreSQL through local Hyperdrive', () => {
  const database = `tongban_worker_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(DATABASE_URL as string, { max: 1, onnotice: () => {} })
  let worker: { fetch(path: string, init?: RequestInit): Promise<Response>; stop(): Promise<void> } | undefined

  beforeAll(async () => {
    await admin.unsafe(`CREATE DATABASE ${database}`)
    const url = new URL(DATABASE_URL as string)
    url.pathname = `/${database}`
    url.search = ''
    // Miniflare insists on a password in the local connection string; under trust auth any will do.
    url.password ||= 'local'
    process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = url.toString()
    const { unstable_dev } = await import('wrangler')
    const started = await unstable_dev(join(ROOT, 'src/runtime/worker.ts'), {
      config: join(ROOT, 'wrangler.toml'),
      ip: '127.0.0.1',
      port: 0,
      inspect: false,
      logLevel: 'error',
      vars: { PUBLIC_URL: 'http://tongban.test', ADMIN_TOKEN, TONGBAN_PKI: JSON.stringify(await deployedBundle()) },
      experimental: { disableExperimentalWarning: true, disableDevRegistry: true, watch: false },
    })
    worker = { fetch: (path, init) => started.fetch(path, init as never) as unknown as Promise<Response>, stop: () => started.stop() }
  }, 120_000)
  afterAll(async () => {
    await worker?.stop()
    delete process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
  }, 60_000)

  it('answers /healthz, issues licences concurrently and verifies them', async () => {
    const w = worker as NonNullable<typeof worker>
    expect(await (await w.fetch('/healthz')).json()).toEqual({ status: 'ok' })
    const answers = await Promise.all(Array.from({ length: 12 }, () => w.fetch('/v1/licences', asAdmin(businessLicenceRequest()))))
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(201))
    const licences = (await Promise.all(answers.map((r) => r.json()))) as Array<{ credential: string; number: string }>
    expect(new Set(licences.map((l) => l.number)).size).toBe(12)
    const reports = await Promise.all(
      licences.map((l) => w.fetch('/v1/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: l.credential }) }).then((r) => r.json())),
    )
    expect(reports.map((r: { indication: string }) => r.indication)).toEqual(Array(12).fill('TOTAL_PASSED'))
  }, 120_000)
})
