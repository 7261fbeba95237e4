export type Holder =
  | { kind: 'enterprise'; uscc: string; name: string }
  | { kind: 'person'; idNumber: string; name: string }

/** Stored states; `expired` is never stored but derived from the validity window. */
export type LicenceStatus = 'active' | 'suspended' | 'revoked' | 'superseded'
export type EffectiveLicenceStatus = LicenceStatus | 'expired'

export interface StatusEntry {
  purpose: 'revocation' | 'suspension'
  listId: string
  index: number
}

export interface Licence {
  id: string
  number: string
  serial: string
  version: number
  typeKey: string
  typeCode: string
  holder: Holder
  fields: Record<string, unknown>
  validFrom: Date
  validUntil: Date
  status: LicenceStatus
  statusReason: string | null
  statusEntries: StatusEntry[]
  issuedAt: Date
  credential: string
  /** The earlier version this one replaced, for a changed licence. */
  supersedes: string | null
}

export interface LicenceEvent {
  licenceId: string
  action: 'issued' | 'suspended' | 'reinstated' | 'revoked' | 'superseded'
  reason: string | null
  actor: string
  at: Date
}

/**
 * One change of a licence as the world outside hears of it (supervision events): an issuance, a
 * change (a new version superseding `previous`), or a status change.
 */
export interface LicenceChange {
  kind: 'issued' | 'changed' | 'suspended' | 'reinstated' | 'revoked'
  /** The licence after the change (for `changed`, the new version). */
  licence: Licence
  /** For `changed`: the version it superseded. */
  previous?: Licence
  reason: string | null
  actor: string
  at: Date
}

export function effectiveStatus(licence: Pick<Licence, 'status' | 'validUntil'>, at: Date): EffectiveLicenceStatus {
  if (licence.status === 'active' && licence.validUntil.getTime() <= at.getTime()) return 'expired'
  return licence.status
}

/** The holder as shown in credentials and reports; identity numbers of persons are masked. */
export function holderKey(holder: Holder): string {
  return holder.kind === 'enterprise' ? `uscc:${holder.uscc}` : `id:${holder.idNumber}`
}
