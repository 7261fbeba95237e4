import { TongbanError } from '../errors'
import type { Licence } from '../licence/licence'
import type { Clock } from '../ports'
import { disclosedReport } from '../verification/disclosure'
import type { VerificationReport } from '../verification/report'
import { verifyCredential, type VerifierDeps } from '../verification/verify-credential'
import { consentCodeHash } from './consent-code'
import { consentState, type Consent } from './consent'
import type { LicenceUse } from './licence-use'
import type { RelyingParty } from './relying-party'
import type { LicenceSubscription } from './licence-subscription'

/** Failed checks a bank may make per window before every check of its is refused until the window moves on. */
export const BANK_FAILURE_LIMIT = 10
/** Failed checks of one code (by any bank) per window: a teller's typos, not a search. */
export const CODE_FAILURE_LIMIT = 5
export const FAILURE_WINDOW_MS = 15 * 60_000

export type ConsentRefusal =
  | 'consent_not_found'
  | 'consent_expired'
  | 'consent_withdrawn'
  | 'consent_used_up'

const REFUSAL_MESSAGES: Record<ConsentRefusal, string> = {
  consent_not_found: 'no consent with this code was given to this bank; check the code with the holder',
  consent_expired: 'this consent has expired; the holder can give a new one',
  consent_withdrawn: 'the holder withdrew this consent',
  consent_used_up: 'this consent has been used as many times as the holder allowed',
}

/**
 * A refused consent code. It names why only to the bank the consent was given to; any other bank
 * is told the code is not found, whatever state the consent is in. Nothing about the licence is said.
 */
export class ConsentRefusedError extends TongbanError {
  readonly code: ConsentRefusal
  readonly status: number
  constructor(refusal: ConsentRefusal) {
    super(REFUSAL_MESSAGES[refusal])
    this.code = refusal
    this.status = refusal === 'consent_not_found' ? 404 : 410
  }
}

export class TooManyAttemptsError extends TongbanError {
  readonly code = 'too_many_attempts'
  readonly status = 429
  constructor(readonly retryAfterS: number) {
    super(`too many wrong consent codes; try again in ${retryAfterS} s`)
  }
}

export interface FailureCounts {
  byParty: { count: number; oldest: Date | null }
  byCode: { count: number; oldest: Date | null }
}

/** The writes of one bank check, in one transaction. */
export interface ConsentCheckTransaction {
  /** Serialises a bank's checks, so that its failure count cannot be raced past the limit. */
  lockRelyingParty(id: string): Promise<void>
  /** Serialises checks of one code by any bank, so that the code's failure count cannot be raced past its limit either. */
  lockCode(codeHash: string): Promise<void>
  failuresSince(relyingPartyId: string, codeHash: string, since: Date): Promise<FailureCounts>
  recordFailure(failure: { relyingPartyId: string; codeHash: string; reason: ConsentRefusal; at: Date }): Promise<void>
  lockConsentByCodeHash(codeHash: string): Promise<Consent | undefined>
  countConsentUse(id: string): Promise<void>
  getLicence(id: string): Promise<Licence | undefined>
  recordUse(use: LicenceUse): Promise<void>
  /** Subscribes the bank to the licence's status; once per licence and bank. */
  subscribe(subscription: LicenceSubscription): Promise<void>
  /** Appends to the region's audit log in the same transaction: a check and its audit entry commit together. */
  audit(kind: 'bank_check' | 'bank_check_refused', detail: Record<string, unknown>, at: Date): Promise<void>
}

export interface BankCheckDeps {
  checks: { transaction<T>(work: (tx: ConsentCheckTransaction) => Promise<T>): Promise<T> }
  verifier: VerifierDeps
  clock: Clock
  newId: () => string
}

/** A bank asked to be told of status changes, and the holder's consent does not allow it. Nothing is counted or shown. */
export class SubscriptionNotConsentedError extends TongbanError {
  readonly code = 'subscription_not_consented'
  readonly status = 403
}

export interface BankCheckResult {
  consent: Consent
  checkedAt: Date
  reports: VerificationReport[]
  /** The licences the bank is now subscribed to (asked for, and allowed by the consent). */
  subscribed: string[]
}

function refusalOf(consent: Consent | undefined, party: RelyingParty, at: Date): ConsentRefusal | undefined {
  if (!consent || consent.relyingPartyId !== party.id) return 'consent_not_found'
  const state = consentState(consent, at)
  return state === 'active' ? undefined : (`consent_${state}` as ConsentRefusal)
}

/** What the bank may see of one licence: what the consent grants and, of that, what the bank is registered for today. */
function disclosedFields(consent: Consent, party: RelyingParty, licence: Licence): string[] {
  const allowed = new Set(party.mayRequest[licence.typeKey] ?? [])
  return consent.fields.filter((field) => allowed.has(field))
}

function retryAfter(counts: FailureCounts, at: Date): number {
  const oldest = [counts.byParty, counts.byCode].filter((c) => c.oldest).map((c) => (c.oldest as Date).getTime())
  const until = Math.max(...oldest) + FAILURE_WINDOW_MS
  return Math.max(1, Math.ceil((until - at.getTime()) / 1000))
}

/**
 * A teller checks a consent code. One transaction either counts the use and records it for the
 * holder, or records the failure (which is what rate-limits guessing) and commits it before the
 * refusal is thrown. Over the limit nothing is looked up at all, so a right guess then is
 * refused like a wrong one.
 */
export async function checkConsentCode(deps: BankCheckDeps, party: RelyingParty, code: string, options: { subscribe?: boolean } = {}): Promise<BankCheckResult> {
  const at = deps.clock.now()
  const codeHash = await consentCodeHash(code)
  const outcome = await deps.checks.transaction(async (tx): Promise<BankCheckResult | { refused: ConsentRefusal } | { limited: number } | { notConsented: true }> => {
    await tx.lockRelyingParty(party.id)
    await tx.lockCode(codeHash)
    const counts = await tx.failuresSince(party.id, codeHash, new Date(at.getTime() - FAILURE_WINDOW_MS))
    if (counts.byParty.count >= BANK_FAILURE_LIMIT || counts.byCode.count >= CODE_FAILURE_LIMIT) return { limited: retryAfter(counts, at) }
    const consent = await tx.lockConsentByCodeHash(codeHash)
    const refusal = refusalOf(consent, party, at)
    if (refusal || !consent) {
      await tx.recordFailure({ relyingPartyId: party.id, codeHash, reason: refusal ?? 'consent_not_found', at })
      await tx.audit('bank_check_refused', { relyingParty: party.id, reason: refusal ?? 'consent_not_found' }, at)
      return { refused: refusal ?? 'consent_not_found' }
    }
    if (options.subscribe && !consent.statusUpdates) return { notConsented: true }
    const reports: VerificationReport[] = []
    const subscribed: string[] = []
    for (const id of consent.licenceIds) {
      const licence = await tx.getLicence(id)
      if (!licence) continue
      const report = await verifyCredential(deps.verifier, licence.credential, { at })
      reports.push(disclosedReport(report, disclosedFields(consent, party, licence)))
      await tx.recordUse({
        licenceId: licence.id,
        user: { kind: 'bank', id: party.id, name: party.name, branch: party.branch },
        purpose: consent.purpose,
        consentId: consent.id,
        indication: report.indication,
        at,
      })
      if (options.subscribe) {
        await tx.subscribe({ id: deps.newId(), licenceId: licence.id, relyingPartyId: party.id, consentId: consent.id, createdAt: at })
        subscribed.push(licence.id)
      }
    }
    await tx.countConsentUse(consent.id)
    await tx.audit(
      'bank_check',
      { relyingParty: party.id, consent: consent.id, purpose: consent.purpose, licences: consent.licenceIds, indications: reports.map((r) => r.indication), subscribed },
      at,
    )
    return { consent: { ...consent, uses: consent.uses + 1 }, checkedAt: at, reports, subscribed }
  })
  if ('limited' in outcome) throw new TooManyAttemptsError(outcome.limited)
  if ('refused' in outcome) throw new ConsentRefusedError(outcome.refused)
  if ('notConsented' in outcome) throw new SubscriptionNotConsentedError('the holder’s consent does not let this bank subscribe to status changes')
  return outcome
}
