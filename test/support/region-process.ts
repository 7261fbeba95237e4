import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createScratchDatabase } from './database'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// PGlite's first start runs initdb, which takes seconds, and many more on a busy machine.
const START_TIMEOUT_MS = 180_000

/** A free port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface RegionProcess {
  /** Where the process listens; the test's own calls go here. */
  url: string
  /** Its PUBLIC_URL, what partners are told: `url`, unless something (a proxy) stands in front of it. */
  publicUrl: string
  port: number
  adminToken: string
  /** DATA_DIR: dev keys, and the PGlite files unless the region has a PostgreSQL database. */
  dataDir: string
  /** The process id of the running child. */
  readonly pid: number
  /** The last lines the process wrote to stderr and stdout (pino logs go to stdout). */
  readonly output: string
  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and waits for it; data stay. */
  stop(): Promise<void>
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port, data directory and database. */
  start(): Promise<void>
  /** Stops it and removes its data directory and database. */
  destroy(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export interface RegionOptions {
  region?: { code: string; name: string }
  /** More environment for the service (e.g. PARTNER_STATUS_MAX_AGE_S). */
  env?: Record<string, string>
  nodeArgs?: string[]
  /** `pglite` (default), or `postgresql`: a database of its own in the server DATABASE_URL names. */
  database?: 'pglite' | 'postgresql'
  /** PUBLIC_URL when something stands in front of the process (test/support/partner-proxy.ts). */
  publicUrl?: string
  /** The port to listen on (default: a free one), for what must know it before the process starts. */
  port?: number
  logLevel?: string
}

/**
 * The real service in a child process (`node bin/tongban.mjs serve`), as an operator starts
 * it, on 127.0.0.1 with a port, a DATA_DIR and keys of its own. It can be stopped, killed and
 * started again on the same data, which the partner and application fault tests need.
 */
export async function startRegionProcess(options: RegionOptions = {}): Promise<RegionProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `tongban-${options.region?.code ?? 'region'}-`))
  const port = options.port ?? (await freePort())
  const adminToken = `test-${crypto.randomUUID()}`
  const url = `http://127.0.0.1:${port}`
  const database = options.database === 'postgresql' ? await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', 'tongban_e2e') : undefined
  let child: ChildProcess | undefined
  let output = ''

  async function start(): Promise<void> {
    const started = spawn(process.execPath, [...(options.nodeArgs ?? []), 'bin/tongban.mjs', 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: database?.url ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: options.publicUrl ?? url,
        DATA_DIR: dataDir,
        ADMIN_TOKEN: adminToken,
        LOG_LEVEL: options.logLevel ?? 'warn',
        ...(options.region ? { REGION_CODE: options.region.code, REGION_NAME: options.region.name } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = started
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000)
    }
    started.stdout?.on('data', keep)
    started.stderr?.on('data', keep)
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (started.exitCode !== null) throw new Error(`the service exited with ${started.exitCode} before listening:\n${output}`)
      try {
        if ((await fetch(`${url}/healthz`)).ok) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        started.kill('SIGKILL')
        throw new Error(`the service did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async function stopWith(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const running = child
    if (!running) return
    if (running.exitCode === null && running.signalCode === null) running.kill(signal)
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000)
    await exited(running)
    clearTimeout(timer)
    child = undefined
  }

  await start()
  return {
    url,
    publicUrl: options.publicUrl ?? url,
    port,
    adminToken,
    dataDir,
    get pid() {
      return child?.pid ?? -1
    },
    get output() {
      return output
    },
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    start,
    async destroy() {
      await stopWith('SIGTERM')
      await rm(dataDir, { recursive: true, force: true })
      await database?.drop()
    },
  }
}

/** A JSON call to a region process with its admin token (or none, with `token: null`). */
export async function call(region: RegionProcess, method: string, path: string, options: { json?: unknown; token?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? region.adminToken}`
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${region.url}${path}`, { method, headers, ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}) })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: the text itself
  }
  return { status: response.status, body: body as Record<string, unknown> & { code?: string }, headers: response.headers }
}
