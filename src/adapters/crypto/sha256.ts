import { createHash } from 'node:crypto'

/**
 * SHA-256 at once, on this thread. On Node, WebCrypto's digest is a job on the thread pool:
 * for a partner message of a few KB it costs about 0.1 ms of CPU and a wait for the pool,
 * where node:crypto takes a few microseconds (docs/benchmarks.md, partner verify). node:crypto
 * is on Workers too (the nodejs_compat flag postgres.js already needs). Signatures stay on
 * WebCrypto.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  return createHash('sha256').update(data).digest()
}

/** SHA-256 as lower-case hex, as the core's sha256Hex gives it, at once. */
export function sha256HexNow(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}
