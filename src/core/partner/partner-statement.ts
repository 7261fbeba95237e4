import { compactVerify, decodeProtectedHeader } from 'jose'

/** Looks up a region's attestation-signer key by kid in the trust lists held. */
export type AttestationKeyOf = (kid: string) => { region: string; publicKey: CryptoKey } | undefined

export type StatementCheck<T> = { ok: true; claims: T } | { ok: false; why: string }

/**
 * Verifies a statement a partner region signed with its attestation-signer key (an identity
 * check, an application event): a compact JWS of exactly this `typ`, by a key of the **calling**
 * region's trust list, not merely of any region's. Says why when it is refused; what the claims
 * must say is the caller's to check.
 */
export async function verifyPartnerStatement<T>(jws: string, typ: string, caller: string, keyOf: AttestationKeyOf): Promise<StatementCheck<T>> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(jws)
  } catch {
    return { ok: false, why: 'not a compact JWS' }
  }
  if (header.typ !== typ) return { ok: false, why: `typ must be ${typ}` }
  const key = typeof header.kid === 'string' ? keyOf(header.kid) : undefined
  if (!key || key.region !== caller) return { ok: false, why: `not signed by an attestation-signer key of ${caller}'s trust list` }
  try {
    const { payload } = await compactVerify(jws, key.publicKey, { algorithms: ['ES256'] })
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload))
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return { ok: false, why: 'the claims are not a JSON object' }
    return { ok: true, claims: claims as T }
  } catch {
    return { ok: false, why: 'the signature does not verify' }
  }
}
