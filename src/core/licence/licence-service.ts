import { IdempotencyKeyReusedError, InvalidTransitionError, NotFoundError, ValidationError } from '../errors'
import type { Clock, JwsSigner, Store, StoreTransaction } from '../ports'
import { buildLicenceCredential, CREDENTIAL_TYP, type IssuerIdentity } from './credential'
import { idNumberProblem } from './id-number'
import { formatLicenceNumber, formatSerial } from './licence-number'
import { fieldProblems, findLicenceType } from './licence-types'
import type { Holder, Licence, LicenceStatus } from './licence'
import { assertUscc } from './uscc'

export interface IssueLicenceRequest {
  type: string
  holder: Holder
  fields: Record<string, unknown>
  validFrom: string
  validUntil: string
}

export interface LicenceServiceDeps {
  store: Store
  signer: JwsSigner
  clock: Clock
  issuer: IssuerIdentity
  regionCode: string
  newId: () => string
  /** Bits per status list; the Bitstring Status List spec asks for at least 131,072 for herd privacy. */
  statusListSize: number
  /** Told after a licence was issued or its status changed, once the change is committed. */
  onLicenceChanged: (licence: Licence) => void
}

export interface Actor {
  id: string
}

export type IssueResult = { replayed: boolean; licence: Licence }

/** Hash of a request body, so a reused Idempotency-Key with another body is refused. */
async function requestHash(body: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(body))
  const digest = await crypto.subtle.digest('SHA-256', bytes)
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

function parseInstant(value: string, pointer: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? new Date(value) : new Date(NaN)
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError('invalid_date', `${pointer.slice(1)} must be an ISO 8601 date or date-time`, [{ pointer, message: 'not an ISO 8601 date' }])
  }
  return date
}

function checkHolder(holder: Holder): void {
  if (holder.kind === 'enterprise') assertUscc(holder.uscc)
  else {
    const problem = idNumberProblem(holder.idNumber)
    if (problem) throw new ValidationError('invalid_id_number', `invalid 公民身份号码: ${problem}`, [{ pointer: '/holder/idNumber', message: problem }])
  }
}

export function validateIssueRequest(request: IssueLicenceRequest) {
  const type = findLicenceType(request.type)
  if (!type) {
    throw new ValidationError('unknown_licence_type', `no licence type ${JSON.stringify(request.type)}; see GET /v1/licence-types`, [
      { pointer: '/type', message: 'unknown licence type' },
    ])
  }
  checkHolder(request.holder)
  const problems = fieldProblems(type, request.fields)
  if (problems.length > 0) throw new ValidationError('invalid_fields', `the fields do not match the ${type.name} schema`, problems)
  const validFrom = parseInstant(request.validFrom, '/validFrom')
  const validUntil = parseInstant(request.validUntil, '/validUntil')
  if (validUntil <= validFrom) {
    throw new ValidationError('invalid_validity', 'validUntil must be after validFrom', [{ pointer: '/validUntil', message: 'not after validFrom' }])
  }
  return { type, validFrom, validUntil }
}

export async function issueLicence(
  deps: LicenceServiceDeps,
  request: IssueLicenceRequest,
  options: { actor: Actor; idempotencyKey?: string },
): Promise<IssueResult> {
  const { type, validFrom, validUntil } = validateIssueRequest(request)
  const hash = options.idempotencyKey ? await requestHash(request) : ''
  const result = await deps.store.transaction(async (tx): Promise<IssueResult> => {
    if (options.idempotencyKey) {
      const claim = await tx.claimIdempotencyKey('issue-licence', options.idempotencyKey, hash)
      if (claim !== 'claimed') {
        if (claim.requestHash !== hash) {
          throw new IdempotencyKeyReusedError('this Idempotency-Key was used for a different request')
        }
        const earlier = await tx.lockLicence((claim.body as { id: string }).id)
        if (!earlier) throw new NotFoundError('licence_not_found', 'the licence of the earlier request is gone')
        return { replayed: true, licence: earlier }
      }
    }
    const now = deps.clock.now()
    const sequence = await tx.nextSequence('licence_serial')
    const serial = formatSerial(deps.regionCode, sequence)
    const revocation = await tx.allocateStatusSlot('revocation', deps.statusListSize)
    const suspension = await tx.allocateStatusSlot('suspension', deps.statusListSize)
    const draft: Omit<Licence, 'credential'> = {
      id: deps.newId(),
      number: formatLicenceNumber({ typeCode: type.code, issuerCode: deps.issuer.uscc, serial, version: 1 }),
      serial,
      version: 1,
      typeKey: type.key,
      typeCode: type.code,
      holder: request.holder,
      fields: request.fields,
      validFrom,
      validUntil,
      status: 'active',
      statusReason: null,
      statusEntries: [
        { purpose: 'revocation', ...revocation },
        { purpose: 'suspension', ...suspension },
      ],
      issuedAt: now,
    }
    const credential = await deps.signer.sign(buildLicenceCredential(draft, type, deps.issuer), { typ: CREDENTIAL_TYP })
    const licence: Licence = { ...draft, credential }
    await tx.insertLicence(licence)
    await tx.insertLicenceEvent({ licenceId: licence.id, action: 'issued', reason: null, actor: options.actor.id, at: now })
    if (options.idempotencyKey) await tx.completeIdempotencyKey('issue-licence', options.idempotencyKey, 201, { id: licence.id })
    return { replayed: false, licence }
  })
  deps.onLicenceChanged(result.licence)
  return result
}

export type StatusAction = 'suspend' | 'reinstate' | 'revoke'

const TRANSITIONS: Record<StatusAction, { from: LicenceStatus[]; to: LicenceStatus; event: 'suspended' | 'reinstated' | 'revoked' }> = {
  suspend: { from: ['active'], to: 'suspended', event: 'suspended' },
  reinstate: { from: ['suspended'], to: 'active', event: 'reinstated' },
  revoke: { from: ['active', 'suspended'], to: 'revoked', event: 'revoked' },
}

async function lockExisting(tx: StoreTransaction, id: string): Promise<Licence> {
  const licence = await tx.lockLicence(id)
  if (!licence) throw new NotFoundError('licence_not_found', `no licence ${id}`)
  return licence
}

export async function changeLicenceStatus(
  deps: LicenceServiceDeps,
  id: string,
  action: StatusAction,
  reason: string | null,
  actor: Actor,
): Promise<Licence> {
  const transition = TRANSITIONS[action]
  const changed = await deps.store.transaction(async (tx) => {
    const licence = await lockExisting(tx, id)
    if (!transition.from.includes(licence.status)) {
      throw new InvalidTransitionError(`a ${licence.status} licence cannot be ${transition.event}`)
    }
    await tx.updateLicenceStatus(id, transition.to, reason)
    await tx.insertLicenceEvent({ licenceId: id, action: transition.event, reason, actor: actor.id, at: deps.clock.now() })
    return { ...licence, status: transition.to, statusReason: reason }
  })
  deps.onLicenceChanged(changed)
  return changed
}
