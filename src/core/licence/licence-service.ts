import { IdempotencyKeyReusedError, InvalidTransitionError, InvalidUsccError, NotFoundError, TongbanError, ValidationError } from '../errors'
import type { Clock, JwsSigner, Store, StoreTransaction } from '../ports'
import { requestHash } from '../request-hash'
import { buildLicenceCredential, CREDENTIAL_TYP, type IssuerIdentity } from './credential'
import { idNumberProblem } from './id-number'
import { formatLicenceNumber, formatSerial } from './licence-number'
import { fieldProblems, findLicenceType, type LicenceType } from './licence-types'
import type { Holder, Licence, LicenceChange, LicenceStatus } from './licence'
import { usccProblem } from './uscc'

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
  /**
   * Called inside the transaction of every licence change, after its history is written: what
   * must follow the change (a supervision event) is enqueued here and commits with it, or the
   * change rolls back with it.
   */
  onLicenceChange?: (tx: StoreTransaction, change: LicenceChange) => Promise<void>
}

export interface Actor {
  id: string
}

export type IssueResult = { replayed: boolean; licence: Licence }

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/
// Years PostgreSQL's timestamptz and a licence's validity can both hold.
const EARLIEST = Date.UTC(1900, 0, 1)
const LATEST = Date.UTC(10000, 0, 1)

function parseInstant(value: string, pointer: string): Date {
  const match = ISO_INSTANT.exec(value)
  const date = match ? new Date(value) : new Date(NaN)
  // Date rolls 2026-02-30 over to 2 March; a date that is not on the calendar is refused instead.
  const onCalendar = match && !Number.isNaN(date.getTime()) && new Date(`${match[1]}T00:00:00Z`).toISOString().startsWith(match[1] as string)
  if (!onCalendar) {
    throw new ValidationError('invalid_date', `${pointer.slice(1)} must be an ISO 8601 date or date-time`, [{ pointer, message: 'not an ISO 8601 date' }])
  }
  if (date.getTime() < EARLIEST || date.getTime() >= LATEST) {
    throw new ValidationError('invalid_date', `${pointer.slice(1)} must fall between 1900 and 9999`, [{ pointer, message: 'outside 1900..9999' }])
  }
  return date
}

/** Refuses a holder whose 统一社会信用代码 or 公民身份号码 fails its check character. */
export function checkHolder(holder: Holder): void {
  if (holder.kind === 'enterprise') {
    const problem = usccProblem(holder.uscc)
    if (problem) {
      throw new InvalidUsccError(`invalid 统一社会信用代码 ${JSON.stringify(holder.uscc)}: ${problem}`, { details: [{ pointer: '/holder/uscc', message: problem }] })
    }
  } else {
    const problem = idNumberProblem(holder.idNumber)
    if (problem) throw new ValidationError('invalid_id_number', `invalid 公民身份号码: ${problem}`, [{ pointer: '/holder/idNumber', message: problem }])
  }
}

/** Runs one check, keeping a 422 it throws so that every problem of a request is reported at once. */
function keep<T>(problems: TongbanError[], check: () => T): T | undefined {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof TongbanError) || error.status !== 422) throw error
    problems.push(error)
    return undefined
  }
}

/**
 * Checks type, holder, fields and validity together. One problem is reported under its own code;
 * several under invalid_licence_request, each detail carrying the code of its problem.
 */
export function validateIssueRequest(request: IssueLicenceRequest) {
  const problems: TongbanError[] = []
  const type = findLicenceType(request.type)
  if (!type) {
    problems.push(
      new ValidationError('unknown_licence_type', `no licence type ${JSON.stringify(request.type)}; see GET /v1/licence-types`, [
        { pointer: '/type', message: 'unknown licence type' },
      ]),
    )
  }
  keep(problems, () => checkHolder(request.holder))
  const fieldDetails = type ? fieldProblems(type, request.fields) : []
  if (type && fieldDetails.length > 0) problems.push(new ValidationError('invalid_fields', `the fields do not match the ${type.name} schema`, fieldDetails))
  const validFrom = keep(problems, () => parseInstant(request.validFrom, '/validFrom'))
  const validUntil = keep(problems, () => parseInstant(request.validUntil, '/validUntil'))
  if (validFrom && validUntil && validUntil <= validFrom) {
    problems.push(new ValidationError('invalid_validity', 'validUntil must be after validFrom', [{ pointer: '/validUntil', message: 'not after validFrom' }]))
  }
  if (problems.length === 1) throw problems[0] as TongbanError
  if (problems.length > 1) {
    throw new ValidationError(
      'invalid_licence_request',
      `the request has ${problems.length} problems: ${problems.map((p) => p.message).join('; ')}`,
      problems.flatMap((p) => p.details.map((detail) => ({ ...detail, code: p.code }))),
    )
  }
  return { type: type as LicenceType, validFrom: validFrom as Date, validUntil: validUntil as Date }
}

interface VersionDraft {
  type: LicenceType
  holder: Holder
  fields: Record<string, unknown>
  validFrom: Date
  validUntil: Date
  serial: string
  version: number
  supersedes: string | null
}

/** Signs and stores one version of a licence, with fresh status list slots, inside the caller's transaction. */
async function writeVersion(deps: LicenceServiceDeps, tx: StoreTransaction, draft: VersionDraft, actor: Actor, now: Date): Promise<Licence> {
  const revocation = await tx.allocateStatusSlot('revocation', deps.statusListSize)
  const suspension = await tx.allocateStatusSlot('suspension', deps.statusListSize)
  const unsigned: Omit<Licence, 'credential'> = {
    id: deps.newId(),
    number: formatLicenceNumber({ typeCode: draft.type.code, issuerCode: deps.issuer.uscc, serial: draft.serial, version: draft.version }),
    serial: draft.serial,
    version: draft.version,
    typeKey: draft.type.key,
    typeCode: draft.type.code,
    holder: draft.holder,
    fields: draft.fields,
    validFrom: draft.validFrom,
    validUntil: draft.validUntil,
    status: 'active',
    statusReason: null,
    statusEntries: [
      { purpose: 'revocation', ...revocation },
      { purpose: 'suspension', ...suspension },
    ],
    issuedAt: now,
    supersedes: draft.supersedes,
  }
  const credential = await deps.signer.sign(buildLicenceCredential(unsigned, draft.type, deps.issuer), { typ: CREDENTIAL_TYP })
  const licence: Licence = { ...unsigned, credential }
  await tx.insertLicence(licence)
  await tx.insertLicenceEvent({ licenceId: licence.id, action: 'issued', reason: draft.supersedes ? `change of ${draft.supersedes}` : null, actor: actor.id, at: now })
  return licence
}

/**
 * Runs a licence-creating write once per Idempotency-Key: a retry with the same key and body
 * returns the licence the first request created; the same key with another body is refused.
 */
async function once(
  deps: LicenceServiceDeps,
  scope: string,
  request: unknown,
  idempotencyKey: string | undefined,
  write: (tx: StoreTransaction) => Promise<Licence>,
): Promise<IssueResult> {
  const hash = idempotencyKey ? await requestHash(request) : ''
  return deps.store.transaction(async (tx): Promise<IssueResult> => {
    if (idempotencyKey) {
      const claim = await tx.claimIdempotencyKey(scope, idempotencyKey, hash)
      if (claim !== 'claimed') {
        if (claim.requestHash !== hash) throw new IdempotencyKeyReusedError('this Idempotency-Key was used for a different request')
        const earlier = await tx.lockLicence((claim.body as { id: string }).id)
        if (!earlier) throw new NotFoundError('licence_not_found', 'the licence of the earlier request is gone')
        return { replayed: true, licence: earlier }
      }
    }
    const licence = await write(tx)
    if (idempotencyKey) await tx.completeIdempotencyKey(scope, idempotencyKey, 201, { id: licence.id })
    return { replayed: false, licence }
  })
}

export async function issueLicence(
  deps: LicenceServiceDeps,
  request: IssueLicenceRequest,
  options: { actor: Actor; idempotencyKey?: string },
): Promise<IssueResult> {
  validateIssueRequest(request)
  const result = await once(deps, 'issue-licence', request, options.idempotencyKey, (tx) => issueLicenceInTransaction(deps, tx, request, options.actor))
  deps.onLicenceChanged(result.licence)
  return result
}

/**
 * Issues a licence inside the caller's transaction, so that what caused it (an approved
 * application) and the licence commit together. The caller tells `onLicenceChanged` once the
 * transaction has committed.
 */
export async function issueLicenceInTransaction(deps: LicenceServiceDeps, tx: StoreTransaction, request: IssueLicenceRequest, actor: Actor): Promise<Licence> {
  const { type, validFrom, validUntil } = validateIssueRequest(request)
  const serial = formatSerial(deps.regionCode, await tx.nextSequence('licence_serial'))
  const draft = { type, holder: request.holder, fields: request.fields, validFrom, validUntil, serial, version: 1, supersedes: null }
  const now = deps.clock.now()
  const licence = await writeVersion(deps, tx, draft, actor, now)
  await deps.onLicenceChange?.(tx, { kind: 'issued', licence, reason: null, actor: actor.id, at: now })
  return licence
}

export interface ChangeLicenceRequest {
  reason: string
  /** The complete new fields, validated against the type's schema. */
  fields?: Record<string, unknown>
  /** A holder's new name (an enterprise renamed); the credit code or identity number never changes. */
  holderName?: string
  validUntil?: string
}

const MAX_VERSION = 999

/**
 * A change (变更) issues a new version under the same serial, GB/T 36904's version raised by
 * one, and marks the old version superseded, which sets its revocation bit: the old credential
 * stops verifying the moment the new one exists.
 */
export async function changeLicence(
  deps: LicenceServiceDeps,
  id: string,
  request: ChangeLicenceRequest,
  options: { actor: Actor; idempotencyKey?: string },
): Promise<IssueResult & { superseded: Licence | undefined }> {
  let superseded: Licence | undefined
  const result = await once(deps, `change-licence:${id}`, request, options.idempotencyKey, async (tx) => {
    const old = await lockExisting(tx, id)
    if (old.status !== 'active') throw new InvalidTransitionError(`only an active licence can be changed; this one is ${old.status}`)
    if (old.version >= MAX_VERSION) throw new InvalidTransitionError(`licence ${old.number} has reached version ${MAX_VERSION}`)
    const type = findLicenceType(old.typeKey)
    if (!type) throw new ValidationError('unknown_licence_type', `licence type ${old.typeKey} is no longer in the catalogue`)
    const fields = request.fields ?? old.fields
    const problems = fieldProblems(type, fields)
    if (problems.length > 0) throw new ValidationError('invalid_fields', `the fields do not match the ${type.name} schema`, problems)
    const validUntil = request.validUntil ? parseInstant(request.validUntil, '/validUntil') : old.validUntil
    if (validUntil <= old.validFrom) throw new ValidationError('invalid_validity', 'validUntil must be after validFrom', [{ pointer: '/validUntil', message: 'not after validFrom' }])
    const holder: Holder = request.holderName ? { ...old.holder, name: request.holderName } : old.holder
    const now = deps.clock.now()
    const draft = { type, holder, fields, validFrom: old.validFrom, validUntil, serial: old.serial, version: old.version + 1, supersedes: old.id }
    const next = await writeVersion(deps, tx, draft, options.actor, now)
    const reason = `${request.reason} (superseded by ${next.number})`
    await tx.updateLicenceStatus(old.id, 'superseded', reason)
    await tx.insertLicenceEvent({ licenceId: old.id, action: 'superseded', reason, actor: options.actor.id, at: now })
    superseded = { ...old, status: 'superseded', statusReason: reason }
    await deps.onLicenceChange?.(tx, { kind: 'changed', licence: next, previous: superseded, reason: request.reason, actor: options.actor.id, at: now })
    return next
  })
  if (superseded) deps.onLicenceChanged(superseded)
  deps.onLicenceChanged(result.licence)
  return { ...result, superseded }
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
  const result = await deps.store.transaction(async (tx) => {
    const licence = await lockExisting(tx, id)
    if (!transition.from.includes(licence.status)) {
      throw new InvalidTransitionError(`a ${licence.status} licence cannot be ${transition.event}`)
    }
    const at = deps.clock.now()
    await tx.updateLicenceStatus(id, transition.to, reason)
    await tx.insertLicenceEvent({ licenceId: id, action: transition.event, reason, actor: actor.id, at })
    const changed: Licence = { ...licence, status: transition.to, statusReason: reason }
    await deps.onLicenceChange?.(tx, { kind: transition.event, licence: changed, reason, actor: actor.id, at })
    return changed
  })
  deps.onLicenceChanged(result)
  return result
}
