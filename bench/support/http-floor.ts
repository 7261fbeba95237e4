import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { JWK } from 'jose'

export interface FloorSetting {
  role: 'verify' | 'partner-owner' | 'partner-asker'
  /** The document signer's public key, to verify the credential with. */
  documentSigner: JWK
  /** What the server answers (the service's own answer for the same request). */
  answer: string
  /** The partner roles' key pairs, one each, as JWKs. */
  partnerKeys?: { asker: { privateKey: JWK; publicKey: JWK }; owner: { privateKey: JWK; publicKey: JWK } }
  /** Where the asker sends its signed request. */
  ownerUrl?: string
}

export interface HttpFloor {
  url: string
  pid: number
  stop(): Promise<void>
}

/**
 * Starts `http-floor-server.ts` in a child process, as the service runs (Node through tsx), and
 * waits for the port it listens on.
 */
export async function startHttpFloor(setting: FloorSetting): Promise<HttpFloor> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./http-floor-server.ts', import.meta.url))], {
    env: { ...process.env, NODE_ENV: 'production', HTTP_FLOOR: JSON.stringify(setting) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit').then(() => {
    throw new Error('the HTTP floor server exited before listening')
  })
  const [line] = (await Promise.race([once(child.stdout!, 'data'), exited])) as [Buffer]
  const port = Number(line.toString().trim())
  if (!child.pid || !(port > 0)) throw new Error(`the HTTP floor server said ${JSON.stringify(line.toString())}`)
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** A fresh P-256 key pair as JWKs, for a partner floor role. */
export async function floorKeyPair(): Promise<{ privateKey: JWK; publicKey: JWK }> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
  return { privateKey: (await crypto.subtle.exportKey('jwk', keys.privateKey)) as JWK, publicKey: (await crypto.subtle.exportKey('jwk', keys.publicKey)) as JWK }
}
