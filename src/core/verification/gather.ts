import { base64url, compactVerify } from 'jose'
import type { StatusBit, StatusSource, TrustStore } from '../ports'
import type { TrustedSigner } from '../trust/trusted-signer'

/**
 * Gathering collects every fact about a credential before anything is judged: what the JWS
 * says, which trusted signer its `kid` names, whether the signature holds under that signer's
 * key, and what the status lists say. Nothing here fetches a URL named in the token.
 */
export interface JwsEvidence {
  input: string
  parsed: ParsedJws | undefined
  parseProblem: string | undefined
  signer: TrustedSigner | undefined
  /** undefined when the signature was not tried (unknown signer, or an algorithm the signer does not use). */
  signatureValid: boolean | undefined
  status: Partial<Record<'revocation' | 'suspension', StatusEvidence>>
}

export interface ParsedJws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

export interface StatusEvidence {
  statusListCredential: string
  index: number
  bit: StatusBit
}

const MAX_JWS_LENGTH = 64 * 1024
const decoder = new TextDecoder('utf-8', { fatal: true })

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new Error(`the ${name} is not base64url`)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(base64url.decode(part)))
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
  if (!/^[A-Za-z0-9_-]+$/.test(signature)) throw new Error('the signature is missing or not base64url')
  return { header: decodeJsonPart(header, 'protected header'), payload: decodeJsonPart(payload, 'payload') }
}

function statusEntries(payload: Record<string, unknown>): Array<{ purpose: string; url: string; index: number }> {
  const status = payload.credentialStatus
  const entries = Array.isArray(status) ? status : status === undefined ? [] : [status]
  return entries.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return []
    const { statusPurpose, statusListCredential, statusListIndex } = entry as Record<string, unknown>
    const index = typeof statusListIndex === 'string' && /^\d{1,9}$/.test(statusListIndex) ? Number(statusListIndex) : NaN
    if (typeof statusPurpose !== 'string' || typeof statusListCredential !== 'string' || Number.isNaN(index)) return []
    return [{ purpose: statusPurpose, url: statusListCredential, index }]
  })
}

async function signatureHolds(input: string, signer: TrustedSigner): Promise<boolean> {
  try {
    // The key's own algorithm only: the token's `alg` never chooses how its key is used.
    await compactVerify(input, signer.publicKey, { algorithms: [signer.alg] })
    return true
  } catch {
    return false
  }
}

export async function gatherJwsEvidence(input: string, trust: TrustStore, status: StatusSource): Promise<JwsEvidence> {
  const evidence: JwsEvidence = { input, parsed: undefined, parseProblem: undefined, signer: undefined, signatureValid: undefined, status: {} }
  try {
    evidence.parsed = parseCompactJws(input)
  } catch (error) {
    evidence.parseProblem = (error as Error).message
    return evidence
  }
  const { header, payload } = evidence.parsed
  if (typeof header.kid === 'string') evidence.signer = trust.findSigner(header.kid)
  if (evidence.signer && header.alg === evidence.signer.alg && header.crit === undefined) {
    evidence.signatureValid = await signatureHolds(input, evidence.signer)
  }
  for (const entry of statusEntries(payload)) {
    if (entry.purpose === 'revocation' || entry.purpose === 'suspension') {
      evidence.status[entry.purpose] = { statusListCredential: entry.url, index: entry.index, bit: status.statusBit(entry.url, entry.index) }
    }
  }
  return evidence
}
