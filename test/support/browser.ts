import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser } from 'playwright-core'
import type { TestApp } from './app'

/** Debian's chromium (installed by .ci/run); the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

/** The test app on a real HTTP port of 127.0.0.1, for a browser to reach. */
export async function listen(t: TestApp): Promise<{ base: string; close(): Promise<void> }> {
  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
  })
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Where browser tests leave their screenshots (git-ignored; docs/screenshots/ keeps a copy for the README). */
export function screenshotPath(name: string): string {
  const dir = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots')
  mkdirSync(dir, { recursive: true })
  return join(dir, name)
}
