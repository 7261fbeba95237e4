import type { Context } from 'hono'
import { PartnerSignatureError, readRequestSignature, type ClaimedRequest, type KeyLookup, type RequestSignature, type SignedRequest } from '../../adapters/crypto/http-signatures'

/** Where the nonces of accepted signed requests are kept until their signatures expire. */
export interface NonceStore {
  /** False when the nonce was seen before in this namespace (a replay). */
  claimNonce(namespace: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean>
}

/** A nonce is kept this long past its signature's expiry, so clock skew cannot reopen the window. */
const NONCE_GRACE_MS = 60_000

function headersOf(c: Context): Record<string, string> {
  const headers: Record<string, string> = {}
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value
  })
  return headers
}

/**
 * The request as its sender signed it: the target URI is rebuilt on this region's PUBLIC_URL,
 * the address the sender was given, not whatever Host a proxy passed on.
 */
export async function signedRequestOf(c: Context, publicUrl: string): Promise<SignedRequest> {
  const body = new Uint8Array(await c.req.arrayBuffer())
  const url = new URL(c.req.url)
  return { method: c.req.method, url: `${publicUrl}${url.pathname}${url.search}`, headers: headersOf(c), body }
}

/** Claims a verified request's nonce in its key's namespace (its `region`); a nonce seen before is `partner_replayed`. */
export async function claimRequestNonce(nonces: NonceStore, verified: RequestSignature, now: Date): Promise<void> {
  if (!(await nonces.claimNonce(verified.key.region, verified.nonce, new Date(verified.expires.getTime() + NONCE_GRACE_MS), now))) {
    throw new PartnerSignatureError('partner_replayed', 'this nonce was used before: the request is a replay')
  }
}

/**
 * Checks a claimed request's signature and claims its nonce at once: the check is WebCrypto
 * work on the thread pool, the claim a database write, and neither needs the other's result.
 * Both must succeed, and a bad signature is reported before a replay. `onAuthentic` runs once
 * the signature is known good, before a replay is reported, so a caller can record who replayed.
 * A forged request thus claims its nonce too: a row that expires with the others, under a nonce
 * its sender chose, in the namespace of the key it named; the forgery itself is refused.
 */
export async function checkAndClaim(claimed: ClaimedRequest, nonces: NonceStore, now: Date, onAuthentic: (signature: RequestSignature) => void = () => {}): Promise<RequestSignature> {
  const [checked, fresh] = await Promise.allSettled([claimed.check(), claimRequestNonce(nonces, claimed, now)])
  if (checked.status === 'rejected') throw checked.reason
  const { check: _check, ...signature } = claimed
  onAuthentic(signature)
  if (fresh.status === 'rejected') throw fresh.reason
  return signature
}

/**
 * Verifies an RFC 9421 request (src/adapters/crypto/http-signatures.ts) and claims its nonce:
 * the one door of partner regions and supervision systems. Throws PartnerSignatureError.
 */
export async function verifyFreshRequest(request: SignedRequest, lookup: KeyLookup, nonces: NonceStore, now: Date, tag?: string): Promise<RequestSignature> {
  return checkAndClaim(await readRequestSignature(request, lookup, now, tag), nonces, now)
}
