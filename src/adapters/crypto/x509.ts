import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { sha256Hex } from '../../core/digest'

// One WebCrypto for every certificate operation, on Node and on Workers alike.
x509.cryptoProvider.set(globalThis.crypto)

export { x509 }

export const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')
}


/** SHA-256 of the DER certificate, lower-case hex: the fingerprint partners pin out of band. */
export async function certificateFingerprint(certificate: x509.X509Certificate): Promise<string> {
  return sha256Hex(certificate.rawData)
}

/** A positive 128-bit serial number from a CSPRNG, as RFC 5280 recommends. */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0] as number) & 0x7f
  return toHex(bytes)
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let binary = ''
  for (let i = 0; i < view.length; i += 0x8000) binary += String.fromCharCode(...view.subarray(i, i + 0x8000))
  return btoa(binary)
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

export function base64Der(certificate: x509.X509Certificate): string {
  return toBase64(certificate.rawData)
}
