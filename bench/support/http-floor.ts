import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { JWK } from 'jose'

export interface HttpFloor {
  url: string
  pid: number
  stop(): Promise<void>
}

/**
 * Starts `http-floor-server.ts` in a child process, as the service runs (Node through tsx), and
 * waits for the port it listens on. `answer` is what it sends back for every verification.
 */
export async function startHttpFloor(jwk: JWK, answer: string): Promise<HttpFloor> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./http-floor-server.ts', import.meta.url))], {
    env: { ...process.env, NODE_ENV: 'production', HTTP_FLOOR: JSON.stringify({ jwk, answer }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => { throw new Error('the HTTP floor server exited before listening') })])) as [Buffer]
  const port = Number(line.toString().trim())
  if (!child.pid || !(port > 0)) throw new Error(`the HTTP floor server said ${JSON.stringify(line.toString())}`)
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
