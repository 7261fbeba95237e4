import { sha256Hex } from '../digest'

/**
 * A bearer secret: 32 random bytes, base64url, behind a prefix that says what it is (`tbh_` a
 * holder credential, `tbb_` a relying party's). The service keeps only its SHA-256: 256 bits of
 * randomness need no salt or slow hash, and a leaked table gives no usable token.
 */
export function newSecretToken(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `${prefix}${btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`
}

export const tokenHash = (token: string) => sha256Hex(token)
