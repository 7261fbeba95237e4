import type { Indication } from '../verification/report'

/** Who looked at a licence: a bank through a consent, or a partner region under an agreement. */
export interface LicenceUser {
  kind: 'bank' | 'partner'
  /** The bank's relying-party id or the partner's region code. */
  id: string
  name: string
  branch: string | null
}

/** One check of one licence, kept for its holder (GET /v1/holder/uses). */
export interface LicenceUse {
  licenceId: string
  user: LicenceUser
  purpose: string | null
  consentId: string | null
  indication: Indication
  at: Date
}

/** A partner region's sight of one of our licences (its verification, or its collection for an applicant), as the holder's log keeps it. */
export function partnerUse(partner: { code: string; name: string }, licenceId: string, purpose: string | null, indication: Indication, at: Date): LicenceUse {
  return { licenceId, user: { kind: 'partner', id: partner.code, name: partner.name, branch: null }, purpose, consentId: null, indication, at }
}

export interface RecordedLicenceUse extends LicenceUse {
  id: number
  licenceNumber: string
  licenceTypeKey: string
}

/**
 * The use log's port, as its holder reads it. Uses are written with what showed the licence: a
 * bank check in its transaction, a partner's verification with the audit entry of its call. A
 * use of a licence not issued here is not kept, since it has no holder here.
 */
export interface LicenceUses {
  listForHolder(holderKey: string, limit: number): Promise<RecordedLicenceUse[]>
}
