import type { StatusBit, StatusSource, TrustStore } from '../ports'
import type { TrustedSigner } from '../trust/trusted-signer'
import { readCredentialClaims, readQrClaims, type LicenceClaims } from './licence-claims'

/** A licence credential (vc+jwt) or the QR payload printed on a licence PDF. */
export type SignedLicenceFormat = 'jws' | 'qr'

/**
 * Gathering collects every fact about a credential before anything is judged: what the JWS
 * says, which trusted signer its `kid` names, whether the signature holds under that signer's
 * key, and what the status lists say. Nothing here fetches a URL named in the token.
 */
export interface JwsEvidence {
  input: string
  format: SignedLicenceFormat
  parsed: ParsedJws | undefined
  parseProblem: string | undefined
  signer: TrustedSigner | undefined
  /** undefined when the signature was not tried (unknown signer, or an algorithm the signer does not use). */
  signatureValid: boolean | undefined
  /** What the payload says about the licence, when it can be read in its format. */
  claims: LicenceClaims | undefined
  claimsProblem: string | undefined
  status: Partial<Record<'revocation' | 'suspension', StatusEvidence>>
}

export interface ParsedJws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  /** The bytes the signature covers: ASCII `base64url(header).base64url(payload)` exactly as received. */
  signingInput: Uint8Array
  signature: Uint8Array
}

export interface StatusEvidence {
  statusListCredential: string
  index: number
  bit: StatusBit
}

const MAX_JWS_LENGTH = 64 * 1024
const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/**
 * Strict base64url: the unpadded alphabet, and the one canonical spelling of the bytes. A lax
 * decoder ignores the unused low bits of the last character, so one signature would have many
 * spellings (RFC 4648 §3.5 lets a decoder refuse them; we do). One pass over the characters
 * checks and decodes: on the verify path this runs for every request, and the regex check plus
 * jose's `atob`-based decoder it replaced cost twice as much (bench/verify.ts).
 */
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** The 6-bit value of each ASCII character, -1 outside the alphabet. */
const SEXTET = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE64URL.length; i++) SEXTET[BASE64URL.charCodeAt(i)] = i

function decodeBase64url(part: string, name: string): Uint8Array {
  const length = part.length
  if (length === 0 || length % 4 === 1) throw new Error(`the ${name} is missing or not base64url`)
  const bytes = new Uint8Array((length * 3) >> 2)
  let bits = 0
  let pending = 0
  let at = 0
  for (let i = 0; i < length; i++) {
    const code = part.charCodeAt(i)
    const value = code < 128 ? (SEXTET[code] as number) : -1
    if (value < 0) throw new Error(`the ${name} is missing or not base64url`)
    bits = ((bits << 6) | value) & 0x3fff
    pending += 6
    if (pending >= 8) {
      pending -= 8
      bytes[at++] = bits >> pending
    }
  }
  // 2 or 3 characters left over carry 1 or 2 bytes; the low 4 or 2 bits of the last are unused and must be 0.
  if ((bits & ((1 << pending) - 1)) !== 0) throw new Error(`the ${name} is not canonical base64url`)
  return bytes
}

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  const bytes = decodeBase64url(part, name)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    throw new Error(`the ${name} is not base64url-encoded UTF-8 JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`the ${name} is not a JSON object`)
  return value as Record<string, unknown>
}

export function parseCompactJws(input: string): ParsedJws {
  if (input.length > MAX_JWS_LENGTH) throw new Error(`longer than ${MAX_JWS_LENGTH} characters`)
  const parts = input.split('.')
  if (parts.length !== 3) throw new Error(`a compact JWS has 3 parts separated by dots, this has ${parts.length}`)
  const [header, payload, signature] = parts as [string, string, string]
  return {
    header: decodeJsonPart(header, 'protected header'),
    payload: decodeJsonPart(payload, 'payload'),
    signingInput: encoder.encode(input.slice(0, header.length + 1 + payload.length)),
    signature: decodeBase64url(signature, 'signature'),
  }
}

interface VerifyParams {
  algorithm: AlgorithmIdentifier | EcdsaParams
  key: { name: string; namedCurve?: string }
  signatureBytes: number
}

const VERIFY_PARAMS: Record<TrustedSigner['alg'], VerifyParams> = {
  ES256: { algorithm: { name: 'ECDSA', hash: 'SHA-256' }, key: { name: 'ECDSA', namedCurve: 'P-256' }, signatureBytes: 64 },
  EdDSA: { algorithm: { name: 'Ed25519' }, key: { name: 'Ed25519' }, signatureBytes: 64 },
}

/**
 * The verify path's one signature primitive (the Wycheproof vectors test this function). The
 * signer's own algorithm decides how its key is used, never the token's `alg`; the key must be
 * of that algorithm (ES256 means P-256); an ES256 signature is the 64-byte r‖s of RFC 7518.
 */
export async function verifyJwsSignature(signer: Pick<TrustedSigner, 'alg' | 'publicKey'>, signingInput: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const params = VERIFY_PARAMS[signer.alg]
  if (!params || signature.length !== params.signatureBytes) return false
  const key = signer.publicKey.algorithm as { name: string; namedCurve?: string }
  if (key.name !== params.key.name || key.namedCurve !== params.key.namedCurve) return false
  try {
    return await crypto.subtle.verify(params.algorithm, signer.publicKey, signature as BufferSource, signingInput as BufferSource)
  } catch {
    return false
  }
}

export async function gatherJwsEvidence(input: string, trust: TrustStore, status: StatusSource, format: SignedLicenceFormat = 'jws'): Promise<JwsEvidence> {
  const evidence: JwsEvidence = {
    input,
    format,
    parsed: undefined,
    parseProblem: undefined,
    signer: undefined,
    signatureValid: undefined,
    claims: undefined,
    claimsProblem: undefined,
    status: {},
  }
  try {
    evidence.parsed = parseCompactJws(input)
  } catch (error) {
    evidence.parseProblem = (error as Error).message
    return evidence
  }
  const { header, payload } = evidence.parsed
  if (typeof header.kid === 'string') evidence.signer = trust.findSigner(header.kid)
  if (evidence.signer && header.alg === evidence.signer.alg && header.crit === undefined) {
    evidence.signatureValid = await verifyJwsSignature(evidence.signer, evidence.parsed.signingInput, evidence.parsed.signature)
  }
  const reading = format === 'qr' ? readQrClaims(payload, evidence.signer?.statusListBase) : readCredentialClaims(payload)
  evidence.claims = reading.claims
  evidence.claimsProblem = reading.problem
  for (const entry of reading.claims?.status ?? []) {
    if (entry.purpose === 'revocation' || entry.purpose === 'suspension') {
      // Only under the signer's own status base: a partner's list is fetched from where its trust list says, never from a URL the token picks.
      const pending = evidence.signatureValid && entry.url.startsWith(evidence.signer?.statusListBase ?? '\u0000') ? status.prepare?.(entry.url) : undefined
      if (pending) await pending
      evidence.status[entry.purpose] = { statusListCredential: entry.url, index: entry.index, bit: status.statusBit(entry.url, entry.index) }
    }
  }
  return evidence
}
