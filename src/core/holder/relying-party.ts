import { NotFoundError, ValidationError, type ProblemDetail } from '../errors'
import { findLicenceType, type LicenceType } from '../licence/licence-types'
import type { Clock } from '../ports'
import { HOLDER_ID_NUMBER_FIELD } from '../verification/disclosure'
import { newSecretToken, tokenHash } from './secret-token'

export const RELYING_PARTY_TOKEN_PREFIX = 'tbb_'


/**
 * A bank service point (政银合作网点) registered by the bureau: who it is, and the most it may ever
 * ask a holder for. A consent can grant less, never more.
 */
export interface RelyingParty {
  id: string
  kind: 'bank'
  name: string
  branch: string
  /** Purposes it may ask for, e.g. 开户 (account opening). */
  purposes: string[]
  /** Per licence type key, the fields it may be shown. */
  mayRequest: Record<string, string[]>
  /** Where it is told of status changes of licences it subscribed to; registered by the bureau. */
  webhookUrl: string | null
  createdAt: Date
  revokedAt: Date | null
}

export interface RelyingPartyStore {
  insertRelyingParty(party: RelyingParty, tokenHash: string): Promise<void>
  relyingPartyByTokenHash(tokenHash: string): Promise<RelyingParty | undefined>
  getRelyingParty(id: string): Promise<RelyingParty | undefined>
  listRelyingParties(): Promise<RelyingParty[]>
  revokeRelyingParty(id: string, at: Date): Promise<RelyingParty | undefined>
}

export interface RelyingPartyDeps {
  parties: RelyingPartyStore
  clock: Clock
  newId: () => string
}

export interface RegisterRelyingPartyRequest {
  name: string
  branch: string
  purposes: string[]
  mayRequest: Record<string, string[]>
  webhookUrl?: string
}

/** Whether `field` names something a licence of this type shows. */
export function isFieldOf(type: LicenceType, field: string): boolean {
  return field === HOLDER_ID_NUMBER_FIELD || Object.hasOwn(type.fieldLabels, field)
}

function scopeProblems(mayRequest: Record<string, string[]>): ProblemDetail[] {
  const problems: ProblemDetail[] = []
  for (const [typeKey, fields] of Object.entries(mayRequest)) {
    const type = findLicenceType(typeKey)
    if (!type || type.key !== typeKey) {
      problems.push({ pointer: `/mayRequest/${typeKey}`, message: 'not a licence type key; see GET /v1/licence-types' })
      continue
    }
    fields.forEach((field, i) => {
      if (!isFieldOf(type, field)) problems.push({ pointer: `/mayRequest/${typeKey}/${i}`, message: `not a field of ${type.name}` })
    })
  }
  return problems
}

/** Registers a bank; its credential (a `tbb_` bearer token) is returned once and kept only as a hash. */
export async function registerRelyingParty(deps: RelyingPartyDeps, request: RegisterRelyingPartyRequest): Promise<{ party: RelyingParty; token: string }> {
  const problems = scopeProblems(request.mayRequest)
  if (problems.length > 0) throw new ValidationError('invalid_relying_party', 'what the bank may ask for names unknown licence types or fields', problems)
  const party: RelyingParty = {
    id: deps.newId(),
    kind: 'bank',
    name: request.name,
    branch: request.branch,
    purposes: [...new Set(request.purposes)],
    mayRequest: Object.fromEntries(Object.entries(request.mayRequest).map(([key, fields]) => [key, [...new Set(fields)]])),
    webhookUrl: request.webhookUrl ?? null,
    createdAt: deps.clock.now(),
    revokedAt: null,
  }
  const token = newSecretToken(RELYING_PARTY_TOKEN_PREFIX)
  await deps.parties.insertRelyingParty(party, await tokenHash(token))
  return { party, token }
}

export async function revokeRelyingParty(deps: RelyingPartyDeps, id: string): Promise<RelyingParty> {
  const revoked = await deps.parties.revokeRelyingParty(id, deps.clock.now())
  if (!revoked) throw new NotFoundError('relying_party_not_found', `no relying party ${id}`)
  return revoked
}

/** The bank a bearer token belongs to, when it is a `tbb_` token of a bank still registered. */
export async function relyingPartyOf(parties: Pick<RelyingPartyStore, 'relyingPartyByTokenHash'>, token: string): Promise<RelyingParty | undefined> {
  if (!token.startsWith(RELYING_PARTY_TOKEN_PREFIX) || token.length > 100) return undefined
  return parties.relyingPartyByTokenHash(await tokenHash(token))
}
