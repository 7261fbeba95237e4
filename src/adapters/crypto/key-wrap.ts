import { fromBase64, toBase64 } from './x509'

/**
 * Seal private keys rest in the database encrypted with AES-256-GCM under the region's seal
 * key-encryption key; the seal's id is the additional data, so a wrapped key copied onto another
 * seal's row does not decrypt.
 */
export type KeyAlgorithm = 'ES256' | 'RS256'

export const SIGNING_ALGORITHMS: Record<KeyAlgorithm, EcKeyImportParams | RsaHashedImportParams> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
}

export function importKek(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

export async function wrapPrivateKey(kek: CryptoKey, pkcs8: Uint8Array | ArrayBuffer, id: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) }, kek, pkcs8 as BufferSource)
  return `v1.${toBase64(iv)}.${toBase64(sealed)}`
}

export async function unwrapPrivateKey(kek: CryptoKey, wrapped: string, id: string, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const [version, iv, sealed] = wrapped.split('.')
  if (version !== 'v1' || !iv || !sealed) throw new Error('not a v1 wrapped key')
  const pkcs8 = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(iv), additionalData: new TextEncoder().encode(id) }, kek, fromBase64(sealed))
  return crypto.subtle.importKey('pkcs8', pkcs8, SIGNING_ALGORITHMS[algorithm], false, ['sign'])
}
