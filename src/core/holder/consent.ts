import { NotFoundError, ValidationError, type ProblemDetail } from '../errors'
import { effectiveStatus, holderKey, type Licence } from '../licence/licence'
import { findLicenceType } from '../licence/licence-types'
import type { Clock } from '../ports'
import { consentCodeHash, consentQrText, newConsentCode } from './consent-code'
import type { HolderPrincipal } from './holder'
import { isFieldOf, type RelyingParty } from './relying-party'

/** A holder's permission for one bank to see named fields of named licences, for one purpose, a number of times, until it expires. */
export interface Consent {
  id: string
  holderKey: string
  relyingPartyId: string
  licenceIds: string[]
  purpose: string
  fields: string[]
  maxUses: number
  uses: number
  /** The holder lets the bank subscribe to later status changes of these licences. */
  statusUpdates: boolean
  expiresAt: Date
  withdrawnAt: Date | null
  createdAt: Date
}

export type ConsentState = 'active' | 'withdrawn' | 'used_up' | 'expired'

/** Withdrawal outranks use and expiry: it is what the holder did last on purpose. */
export function consentState(consent: Pick<Consent, 'withdrawnAt' | 'uses' | 'maxUses' | 'expiresAt'>, at: Date): ConsentState {
  if (consent.withdrawnAt) return 'withdrawn'
  if (consent.uses >= consent.maxUses) return 'used_up'
  if (consent.expiresAt.getTime() <= at.getTime()) return 'expired'
  return 'active'
}

export interface ConsentStore {
  /** False when the code hash is taken (a collision: the caller draws another code). */
  insertConsent(consent: Consent, codeHash: string): Promise<boolean>
  listConsents(holderKey: string): Promise<Consent[]>
  /** Sets withdrawnAt unless set; undefined when the holder has no such consent. */
  withdrawConsent(holderKey: string, id: string, at: Date): Promise<Consent | undefined>
}

export interface ConsentDeps {
  consents: ConsentStore
  parties: { getRelyingParty(id: string): Promise<RelyingParty | undefined> }
  licences: { getLicence(id: string): Promise<Licence | undefined> }
  clock: Clock
  newId: () => string
}

export interface CreateConsentRequest {
  relyingParty: string
  licences: string[]
  purpose: string
  fields: string[]
  expiresInMinutes: number
  /** How many checks the consent allows; one unless the holder says otherwise. */
  maxUses?: number
  /** Let the bank be told of later status changes (suspension, revocation, a new version); off unless said. */
  statusUpdates?: boolean
}

/** Minutes to days: long enough to walk to the counter, never open-ended. */
export const CONSENT_MAX_MINUTES = 30 * 24 * 60
export const CONSENT_MAX_USES = 100

/** A licence of someone else is answered as not found, so that ids of other holders' licences cannot be probed. */
async function holdersLicences(deps: ConsentDeps, holder: HolderPrincipal, ids: string[]): Promise<Licence[]> {
  const licences: Licence[] = []
  for (const id of ids) {
    const licence = await deps.licences.getLicence(id)
    if (!licence || holderKey(licence.holder) !== holder.key) throw new NotFoundError('licence_not_found', `you hold no licence ${id}`)
    licences.push(licence)
  }
  return licences
}

/** The codes of a consent request's problems; one problem is reported under its own code, several under invalid_consent_request. */
type ConsentProblemCode =
  | 'outside_relying_party_scope'
  | 'unknown_field'
  | 'licence_not_usable'

const problem = (pointer: string, code: ConsentProblemCode, message: string): ProblemDetail => ({ pointer, code, message })

/** What the consent asks beyond the bank's registered scope, or of fields no chosen licence has: one detail each. */
function scopeProblems(party: RelyingParty, licences: Licence[], request: CreateConsentRequest): ProblemDetail[] {
  const problems: ProblemDetail[] = []
  if (!party.purposes.includes(request.purpose)) {
    problems.push(problem('/purpose', 'outside_relying_party_scope', `${party.name} may ask for: ${party.purposes.join('、')}`))
  }
  licences.forEach((licence, i) => {
    if (!party.mayRequest[licence.typeKey]) problems.push(problem(`/licences/${i}`, 'outside_relying_party_scope', `${party.name} may not ask for this licence type (${licence.typeKey})`))
  })
  request.fields.forEach((field, i) => {
    const having = licences.filter((licence) => {
      const type = findLicenceType(licence.typeKey)
      return type !== undefined && isFieldOf(type, field) && (field !== 'holder.idNumber' || licence.holder.kind === 'person')
    })
    if (having.length === 0) problems.push(problem(`/fields/${i}`, 'unknown_field', 'none of the chosen licences has this field'))
    else if (having.some((licence) => !party.mayRequest[licence.typeKey]?.includes(field))) {
      problems.push(problem(`/fields/${i}`, 'outside_relying_party_scope', `${party.name} may not be shown this field`))
    }
  })
  return problems
}

/**
 * The holder grants a bank a look. The code is returned once, with the text its QR code
 * carries; only the code's hash is stored.
 */
export async function createConsent(
  deps: ConsentDeps,
  holder: HolderPrincipal,
  request: CreateConsentRequest,
): Promise<{ consent: Consent; code: string; qrText: string }> {
  const party = await deps.parties.getRelyingParty(request.relyingParty)
  if (!party || party.revokedAt) {
    throw new ValidationError('unknown_relying_party', `no registered bank ${request.relyingParty}; see GET /v1/holder/relying-parties`, [{ pointer: '/relyingParty', message: 'not a registered bank' }])
  }
  const licences = await holdersLicences(deps, holder, [...new Set(request.licences)])
  const now = deps.clock.now()
  const problems = scopeProblems(party, licences, request)
  if (request.statusUpdates && !party.webhookUrl) problems.push(problem('/statusUpdates', 'outside_relying_party_scope', `${party.name} has no registered webhook for status updates`))
  licences.forEach((licence, i) => {
    const status = effectiveStatus(licence, now)
    if (status === 'superseded' || status === 'revoked') problems.push(problem(`/licences/${i}`, 'licence_not_usable', `the licence is ${status}`))
  })
  if (problems.length === 1) throw new ValidationError(problems[0]?.code as string, (problems[0] as ProblemDetail).message, problems)
  if (problems.length > 1) throw new ValidationError('invalid_consent_request', `the consent has ${problems.length} problems: ${problems.map((p) => p.message).join('; ')}`, problems)

  const consent: Consent = {
    id: deps.newId(),
    holderKey: holder.key,
    relyingPartyId: party.id,
    licenceIds: licences.map((licence) => licence.id),
    purpose: request.purpose,
    fields: [...new Set(request.fields)],
    maxUses: request.maxUses ?? 1,
    uses: 0,
    statusUpdates: request.statusUpdates ?? false,
    expiresAt: new Date(now.getTime() + request.expiresInMinutes * 60_000),
    withdrawnAt: null,
    createdAt: now,
  }
  for (;;) {
    const code = newConsentCode()
    if (await deps.consents.insertConsent(consent, await consentCodeHash(code))) return { consent, code, qrText: consentQrText(code) }
  }
}

export async function withdrawConsent(deps: Pick<ConsentDeps, 'consents' | 'clock'>, holder: HolderPrincipal, id: string): Promise<Consent> {
  const withdrawn = await deps.consents.withdrawConsent(holder.key, id, deps.clock.now())
  if (!withdrawn) throw new NotFoundError('consent_not_found', `you gave no consent ${id}`)
  return withdrawn
}
