import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

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

export interface Service {
  url: string
  adminToken: string
  pid: number
  /** DATA_DIR: dev keys, and the PGlite files unless DATABASE_URL is set. */
  dataDir: string
  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and waits for it; the data stays until removeData. */
  stop(): Promise<void>
  removeData(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * The real service in a child process (`node bin/tongban.mjs serve`), exactly as an operator
 * starts it, so the load generator in this process does not share its event loop. A temporary
 * DATA_DIR holds the dev keys and PGlite data; `env` adds e.g. DATABASE_URL.
 */
export async function startService(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Service> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tongban-bench-'))
  const port = await freePort()
  const adminToken = `bench-${crypto.randomUUID()}`
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [...nodeArgs, 'bin/tongban.mjs', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited(child)
    clearTimeout(timer)
  }
  const removeData = () => rm(dataDir, { recursive: true, force: true })

  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      await removeData()
      throw new Error(`the service exited with ${child.exitCode} before listening:\n${stderr}`)
    }
    try {
      const response = await fetch(`${url}/healthz`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      await removeData()
      throw new Error(`the service did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url, adminToken, pid: child.pid as number, dataDir, stop, removeData }
}
