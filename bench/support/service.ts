import { rm } from 'node:fs/promises'
import { startRegionProcess } from '../../test/support/region-process'

export { freePort } from '../../test/support/region-process'

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

/**
 * The real service in a child process (`node bin/tongban.mjs serve`), exactly as an operator
 * starts it, so the load generator in this process does not share its event loop. A temporary
 * DATA_DIR holds the dev keys and PGlite data; `env` adds e.g. DATABASE_URL.
 */
export async function startService(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Service> {
  const region = await startRegionProcess({ env, nodeArgs, logLevel: 'info' })
  return { url: region.url, adminToken: region.adminToken, pid: region.pid, dataDir: region.dataDir, stop: () => region.stop(), removeData: () => rm(region.dataDir, { recursive: true, force: true }) }
}
