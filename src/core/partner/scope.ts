/**
 * What the agreement with a partner allows it, as the partner API asks: whether an agreement is
 * in force, its rate, and which licence types the partner may verify with which fields
 * disclosed. The agreements module answers it from memory.
 */
export interface PartnerScope {
  /** The agreement in force with the partner at `at`, or undefined (none, one-signed, outside its window, terminated). */
  agreementWith(partner: string, at: Date): { id: string; rateLimit: { requests: number; perSeconds: number } } | undefined
  /** The fields of a licence type the partner may be shown, or undefined when it may not verify that type at all. */
  verifiableFields(partner: string, licenceType: string, at: Date): string[] | undefined
}

/** One partner call, in or out, for the audit log. */
export interface PartnerCallRecord {
  direction: 'in' | 'out'
  partner: string | null
  method: string
  path: string
  status: number
  code: string | null
  nonce: string | null
  keyid: string | null
  requestDigest: string | null
  responseDigest: string | null
}
