import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Runs latchset `jose jws ver` (Debian's `jose` command, C on OpenSSL/jansson: an implementation
 * that shares no code with ours) on a JWS and a JWK or JWK Set. Its payload output means
 * nothing unless the exit status is 0.
 */
export function joseVerify(jws: string, key: unknown): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-jose-'))
  try {
    const jwsFile = join(dir, 'in.jws')
    const keyFile = join(dir, 'key.jwk')
    writeFileSync(jwsFile, jws)
    writeFileSync(keyFile, JSON.stringify(key))
    const run = spawnSync('jose', ['jws', 'ver', '-i', jwsFile, '-k', keyFile, '-O', '-'], { encoding: 'utf8' })
    if (run.error) throw run.error
    return { status: run.status, stdout: run.stdout, stderr: run.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
