/**
 * A partner region as this region knows it: registered by an admin with the descriptor URL and
 * the root fingerprint exchanged out of band, and trusted through the last good trust list it
 * published under that root.
 */
export interface Partner {
  code: string
  name: string
  descriptorUrl: string
  rootSha256: string
  /** Where its API lives: from its signed trust list, never from the unsigned descriptor. */
  baseUrl: string
  trustList: { jws: string; sequence: number; hash: string; validUntil: Date }
  registeredAt: Date
  /** When the current trust list was accepted. */
  refreshedAt: Date
  /** The last fetch, and what went wrong with it if anything (a refused list never replaces the good one). */
  lastAttemptAt: Date
  lastProblem: string | null
}

export interface PartnerView {
  code: string
  name: string
  descriptorUrl: string
  rootSha256: string
  baseUrl: string
  trustList: { sequence: number; validUntil: string; fresh: boolean }
  registeredAt: string
  refreshedAt: string
  lastAttemptAt: string
  lastProblem: string | null
}

export function partnerView(partner: Partner, now: Date): PartnerView {
  return {
    code: partner.code,
    name: partner.name,
    descriptorUrl: partner.descriptorUrl,
    rootSha256: partner.rootSha256,
    baseUrl: partner.baseUrl,
    trustList: { sequence: partner.trustList.sequence, validUntil: partner.trustList.validUntil.toISOString(), fresh: now < partner.trustList.validUntil },
    registeredAt: partner.registeredAt.toISOString(),
    refreshedAt: partner.refreshedAt.toISOString(),
    lastAttemptAt: partner.lastAttemptAt.toISOString(),
    lastProblem: partner.lastProblem,
  }
}
