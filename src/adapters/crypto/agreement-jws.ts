import { base64url, compactVerify, decodeProtectedHeader, flattenedVerify, FlattenedSign, CompactSign } from 'jose'
import type { AgreementTerms, GeneralJws } from '../../core/partner/agreement'
import { canonicalJson } from '../../core/request-hash'
import type { SigningKey } from './http-signatures'

/**
 * Agreements are signed as one JWS in general JSON serialization (RFC 7515 §7.2.1): the terms
 * once, as canonical JSON, and one signature per region by its partner-auth key, each with its
 * own protected header naming the region and the key. Countersigning adds a signature over the
 * very same payload bytes, so neither side can sign something else under the same id.
 */
export const AGREEMENT_TYP = 'tongban-agreement+jws'
export const TERMINATION_TYP = 'tongban-agreement-termination+jwt'

/** Finds a region's partner-auth public key by kid (this region's own included). */
export type PartnerAuthKeys = (kid: string) => { region: string; publicKey: CryptoKey } | undefined

export function termsPayload(terms: AgreementTerms): string {
  return base64url.encode(canonicalJson(terms))
}

export function termsOf(jws: GeneralJws): AgreementTerms {
  return JSON.parse(new TextDecoder().decode(base64url.decode(jws.payload))) as AgreementTerms
}

/** Adds this region's signature over the payload the document already carries (or starts one from terms). */
export async function addSignature(document: GeneralJws | AgreementTerms, region: string, key: SigningKey): Promise<GeneralJws> {
  const jws: GeneralJws = 'payload' in document ? document : { payload: termsPayload(document), signatures: [] }
  const signed = await new FlattenedSign(base64url.decode(jws.payload))
    .setProtectedHeader({ alg: 'ES256', kid: key.keyid, typ: AGREEMENT_TYP, region })
    .sign(key.privateKey)
  return { payload: jws.payload, signatures: [...jws.signatures.filter((s) => headerRegion(s.protected) !== region), { protected: signed.protected as string, signature: signed.signature }] }
}

/** Each signature under the region its protected header names. */
export function signaturesByRegion(jws: GeneralJws): Array<[string, GeneralJws['signatures'][number]]> {
  return jws.signatures.flatMap((signature) => {
    const region = headerRegion(signature.protected)
    return region ? [[region, signature] as [string, GeneralJws['signatures'][number]]] : []
  })
}

function headerRegion(protectedHeader: string): string | undefined {
  try {
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(protectedHeader))) as { region?: unknown }
    return typeof header.region === 'string' ? header.region : undefined
  } catch {
    return undefined
  }
}

export type SignatureCheck = { region: string | undefined; valid: boolean; problem?: string }

/** Checks each signature with the partner-auth key its kid names; the key's region must be the one the header claims. */
export async function checkSignatures(jws: GeneralJws, keys: PartnerAuthKeys): Promise<SignatureCheck[]> {
  return Promise.all(
    jws.signatures.map(async (signature): Promise<SignatureCheck> => {
      const region = headerRegion(signature.protected)
      try {
        const header = JSON.parse(new TextDecoder().decode(base64url.decode(signature.protected))) as { kid?: unknown; typ?: unknown; alg?: unknown }
        if (header.typ !== AGREEMENT_TYP || header.alg !== 'ES256') return { region, valid: false, problem: 'not an agreement signature (typ, alg)' }
        const key = typeof header.kid === 'string' ? keys(header.kid) : undefined
        if (!key) return { region, valid: false, problem: `kid ${String(header.kid)} is no partner-auth key of a trusted region` }
        if (key.region !== region) return { region, valid: false, problem: `the key belongs to ${key.region}, not to ${String(region)}` }
        await flattenedVerify({ payload: jws.payload, protected: signature.protected, signature: signature.signature }, key.publicKey, { algorithms: ['ES256'] })
        return { region, valid: true }
      } catch {
        return { region, valid: false, problem: 'the signature does not verify' }
      }
    }),
  )
}

export interface TerminationStatement {
  type: 'tongban-agreement-termination'
  agreement: string
  by: string
  at: string
  reason: string
}

export async function signTermination(statement: TerminationStatement, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(canonicalJson(statement))).setProtectedHeader({ alg: 'ES256', kid: key.keyid, typ: TERMINATION_TYP }).sign(key.privateKey)
}

/** The statement, when signed by the partner-auth key of the region it names as `by`; otherwise undefined. */
export async function verifyTermination(jws: string, keys: PartnerAuthKeys): Promise<TerminationStatement | undefined> {
  try {
    const { kid, typ } = decodeProtectedHeader(jws)
    const key = typeof kid === 'string' && typ === TERMINATION_TYP ? keys(kid) : undefined
    if (!key) return undefined
    const { payload } = await compactVerify(jws, key.publicKey, { algorithms: ['ES256'] })
    const statement = JSON.parse(new TextDecoder().decode(payload)) as TerminationStatement
    return statement.type === 'tongban-agreement-termination' && statement.by === key.region ? statement : undefined
  } catch {
    return undefined
  }
}
