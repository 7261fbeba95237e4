import { base64url } from 'jose'

/**
 * Tools for making hostile JWS by hand. jose's signers refuse what an attacker would send
 * (unknown `crit`, `alg: none`, HS256 over a public key), so these build the compact form
 * directly and sign the exact bytes with WebCrypto.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export type Json = Record<string, unknown>

/** The order of P-256 (FIPS 186-4 D.1.2.3): a valid ECDSA r and s are in [1, n - 1]. */
export const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

export const b64 = (bytes: Uint8Array | string) => base64url.encode(typeof bytes === 'string' ? encoder.encode(bytes) : bytes)
export const b64json = (value: unknown) => b64(JSON.stringify(value))

export interface JwsParts {
  header: Json
  payload: Json
  /** The three parts as they appear in the compact form. */
  raw: [string, string, string]
  signature: Uint8Array
}

export function splitJws(jws: string): JwsParts {
  const raw = jws.split('.') as [string, string, string]
  if (raw.length !== 3) throw new Error('not a compact JWS')
  return {
    header: JSON.parse(decoder.decode(base64url.decode(raw[0]))) as Json,
    payload: JSON.parse(decoder.decode(base64url.decode(raw[1]))) as Json,
    raw,
    signature: base64url.decode(raw[2]),
  }
}

/** Signs `b64(header).b64(payload)` exactly as given; `payload` may be any JSON or raw text. */
export async function signCompact(header: Json, payload: unknown, key: CryptoKey): Promise<string> {
  const encodedPayload = typeof payload === 'string' ? b64(payload) : b64json(payload)
  const signingInput = `${b64json(header)}.${encodedPayload}`
  let signature: ArrayBuffer
  if (key.algorithm.name === 'ECDSA') signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, encoder.encode(signingInput))
  else if (key.algorithm.name === 'HMAC') signature = await crypto.subtle.sign('HMAC', key, encoder.encode(signingInput))
  else if (key.algorithm.name === 'Ed25519') signature = await crypto.subtle.sign('Ed25519', key, encoder.encode(signingInput))
  else throw new Error(`cannot sign with ${key.algorithm.name}`)
  return `${signingInput}.${b64(new Uint8Array(signature))}`
}

/** The classic key-confusion forgery: HS256 keyed with bytes an attacker can read (a public key). */
export async function signHs256(header: Json, payload: unknown, secret: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey('raw', secret as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return signCompact({ ...header, alg: 'HS256' }, payload, key)
}

/** An unsigned JWS; `signature` is what follows the second dot (none, or something). */
export function unsecured(header: Json, payload: unknown, signature = ''): string {
  return `${b64json(header)}.${b64json(payload)}.${signature}`
}

/** The same header and signature over another payload: what a forger without the key can do. */
export function withPayload(jws: string, payload: unknown): string {
  const { raw } = splitJws(jws)
  return `${raw[0]}.${typeof payload === 'string' ? payload : b64json(payload)}.${raw[2]}`
}

export function withSignature(jws: string, signature: Uint8Array): string {
  const { raw } = splitJws(jws)
  return `${raw[0]}.${raw[1]}.${b64(signature)}`
}

/** A P1363 ECDSA signature (32-byte big-endian r ‖ s); values must fit in 256 bits. */
export function p1363(r: bigint, s: bigint): Uint8Array {
  const out = new Uint8Array(64)
  for (const [offset, value] of [[0, r], [32, s]] as const) {
    if (value < 0n || value >= 1n << 256n) throw new Error('does not fit in 32 bytes')
    out.set(Uint8Array.from(value.toString(16).padStart(64, '0').match(/../g)!, (h) => parseInt(h, 16)), offset)
  }
  return out
}

export function rs(signature: Uint8Array): { r: bigint; s: bigint } {
  const hex = (bytes: Uint8Array) => BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`)
  return { r: hex(signature.subarray(0, 32)), s: hex(signature.subarray(32, 64)) }
}

export async function newEs256KeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
}

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16))
}
