import { IdempotencyKeyReusedError, InvalidTransitionError, NotFoundError, TongbanError, ValidationError, type ProblemDetail } from '../errors'
import { idNumberProblem } from '../licence/id-number'
import type { Licence } from '../licence/licence'
import { issueLicenceInTransaction, type Actor, type LicenceServiceDeps } from '../licence/licence-service'
import { usccProblem } from '../licence/uscc'
import type { AttachmentReads, Clock, Store, StoreTransaction } from '../ports'
import { requestHash } from '../request-hash'
import { DECISIONS, withSupplement, type Applicant, type Application, type ApplicationEvent, type AttachmentRef, type DecisionAction, type Region } from './application'
import { enqueueAttachmentFetches } from './attachment-fetch'
import { heldProblems, requireAllHeld } from './attachment-holding'
import { findMatter, formProblems, licenceFieldsFromForm, type Matter } from './matters'

export interface ApplicationServiceDeps {
  store: Store
  clock: Clock
  newId: () => string
  region: Region
  licences: LicenceServiceDeps
  /** The partner regions this region may accept a matter for, by active agreement. */
  partnersAccepting(matterCode: string, at: Date): Region[]
  /**
   * Called inside the transaction of every step, after its event is written: what must follow a
   * step (a message to the other region, a supervision event) is enqueued here and commits with it.
   */
  onStep?: (tx: StoreTransaction, application: Application, event: ApplicationEvent) => Promise<void>
  /** Called after a step's transaction committed: what `onStep` enqueued can be sent now rather than at the next tick. */
  afterStep?: () => void
}

export interface CreateApplicationRequest {
  matter: string
  applicant: Applicant
  form: Record<string, unknown>
  attachments: AttachmentRef[]
  /** The region that handles it; this region when absent. */
  handlingRegion?: string
}

export interface DecisionRequest {
  action: DecisionAction
  reason?: string
  /** request-more: what the applicant must still provide. */
  missing?: string[]
  /** supplement: a corrected form (replaces the old one) and further attachments (replace those of the same key). */
  form?: Record<string, unknown>
  attachments?: AttachmentRef[]
  /** approve: the licence to issue; holder and fields default to the applicant and the form. */
  licence?: { holder?: Applicant; fields?: Record<string, unknown>; validFrom?: string; validUntil: string }
}

function applicantProblems(applicant: Applicant): TongbanError[] {
  if (applicant.kind === 'enterprise') {
    const problem = usccProblem(applicant.uscc)
    return problem ? [new ValidationError('invalid_uscc', `invalid 统一社会信用代码: ${problem}`, [{ pointer: '/applicant/uscc', message: problem }])] : []
  }
  const problem = idNumberProblem(applicant.idNumber)
  return problem ? [new ValidationError('invalid_id_number', `invalid 公民身份号码: ${problem}`, [{ pointer: '/applicant/idNumber', message: problem }])] : []
}

/** The attachments given whose key the matter does not take, pointing at each under `base`. */
function unknownAttachmentProblems(matter: Matter, given: AttachmentRef[], base: string): TongbanError[] {
  const problems: TongbanError[] = []
  given.forEach((attachment, i) => {
    if (!matter.attachments.some((a) => a.key === attachment.key)) {
      problems.push(new ValidationError('unknown_attachment', `${matter.name} takes no attachment ${JSON.stringify(attachment.key)}`, [{ pointer: `${base}/${i}/key`, message: 'not an attachment of this matter' }]))
    }
  })
  return problems
}

/** The matter's required attachments that `attachments` (all the application has) lacks. */
function missingAttachmentProblems(matter: Matter, attachments: AttachmentRef[], base: string): TongbanError[] {
  const problems: TongbanError[] = []
  const missing = matter.attachments.filter((a) => a.required && !attachments.some((given) => given.key === a.key))
  if (missing.length > 0) {
    problems.push(
      new ValidationError(
        'missing_attachment',
        `${matter.name} needs ${missing.map((a) => `${a.name} (${a.key})`).join(', ')}`,
        missing.map((a) => ({ pointer: base, message: `${a.name} (${a.key}) is required` })),
      ),
    )
  }
  return problems
}

/** One problem under its own code; several under invalid_application, each detail carrying its own code. */
export function throwProblems(problems: TongbanError[]): void {
  if (problems.length === 1) throw problems[0] as TongbanError
  if (problems.length > 1) {
    throw new ValidationError(
      'invalid_application',
      `the request has ${problems.length} problems: ${problems.map((p) => p.message).join('; ')}`,
      problems.flatMap((p) => p.details.map((detail) => ({ ...detail, code: p.code }))),
    )
  }
}

function resolveHandlingRegion(deps: ApplicationServiceDeps, matter: Matter | undefined, code: string | undefined, problems: TongbanError[]): Region {
  if (code === undefined || code === deps.region.code) return deps.region
  const partner = matter ? deps.partnersAccepting(matter.code, deps.clock.now()).find((region) => region.code === code) : undefined
  if (!partner && matter) {
    problems.push(
      new ValidationError('matter_not_accepted', `no active agreement lets ${deps.region.name} accept ${matter.name} for region ${code}`, [
        { pointer: '/handlingRegion', message: 'no agreement covers this matter with this region' },
      ]),
    )
  }
  return partner ?? { code, name: code }
}

/** What is wrong with an application's applicant, form and attachments for its matter (also checked on a forwarded one). */
export function contentProblems(matter: Matter, request: { applicant: Applicant; form: Record<string, unknown>; attachments: AttachmentRef[] }): TongbanError[] {
  const problems = applicantProblems(request.applicant)
  const form = formProblems(matter, request.form)
  if (form.length > 0) problems.push(new ValidationError('invalid_form', `the form does not match the ${matter.name} schema`, form))
  problems.push(...unknownAttachmentProblems(matter, request.attachments, '/attachments'), ...missingAttachmentProblems(matter, request.attachments, '/attachments'))
  return problems
}

/**
 * Checks an application made at this region's window whole: matter, applicant, form,
 * attachments (each naming a document uploaded here) and the region that handles it.
 */
export async function validateApplication(deps: ApplicationServiceDeps, request: CreateApplicationRequest): Promise<{ matter: Matter; handlingRegion: Region }> {
  const problems: TongbanError[] = []
  const matter = findMatter(request.matter)
  if (!matter) problems.push(new ValidationError('unknown_matter', `no matter ${JSON.stringify(request.matter)}; see GET /v1/matters`, [{ pointer: '/matter', message: 'unknown matter' }]))
  problems.push(...(matter ? contentProblems(matter, request) : applicantProblems(request.applicant)))
  problems.push(...(await heldProblems(deps.store, request.attachments, '/attachments')))
  const handlingRegion = resolveHandlingRegion(deps, matter, request.handlingRegion, problems)
  throwProblems(problems)
  return { matter: matter as Matter, handlingRegion }
}

export type CreateResult = { replayed: boolean; application: Application }

/** Window staff register an application: it is checked whole, then stored with its first event, or nothing is stored. */
export async function createApplication(
  deps: ApplicationServiceDeps,
  request: CreateApplicationRequest,
  options: { actor: Actor; idempotencyKey?: string },
): Promise<CreateResult> {
  const { handlingRegion } = await validateApplication(deps, request)
  const hash = options.idempotencyKey ? await requestHash(request) : ''
  const result = await deps.store.transaction(async (tx): Promise<CreateResult> => {
    if (options.idempotencyKey) {
      const claim = await tx.claimIdempotencyKey('create-application', options.idempotencyKey, hash)
      if (claim !== 'claimed') {
        if (claim.requestHash !== hash) throw new IdempotencyKeyReusedError('this Idempotency-Key was used for a different request')
        const earlier = await tx.lockApplication((claim.body as { id: string }).id)
        if (!earlier) throw new NotFoundError('application_not_found', 'the application of the earlier request is gone')
        return { replayed: true, application: earlier }
      }
    }
    const now = deps.clock.now()
    const application: Application = {
      id: deps.newId(),
      matterCode: request.matter,
      applicant: request.applicant,
      form: request.form,
      attachments: request.attachments,
      acceptingRegion: deps.region,
      handlingRegion,
      status: 'received',
      resumeStatus: null,
      licenceId: null,
      sequence: 1,
      createdAt: now,
      updatedAt: now,
    }
    await tx.insertApplication(application)
    const event: ApplicationEvent = { applicationId: application.id, sequence: 1, action: 'submit', from: null, to: 'received', actor: options.actor.id, reason: null, detail: {}, at: now }
    await tx.insertApplicationEvent(event)
    await deps.onStep?.(tx, application, event)
    if (options.idempotencyKey) await tx.completeIdempotencyKey('create-application', options.idempotencyKey, 201, { id: application.id })
    return { replayed: false, application }
  })
  if (!result.replayed) deps.afterStep?.()
  return result
}

/**
 * The form and attachments after a supplement: checked whole against the matter, or its
 * problems thrown. `heldHere` reads the documents held at this window, where the added
 * attachments must have been uploaded; undefined when they are held by the partner that asked
 * for the supplement, and are fetched from it.
 */
export async function supplemented(
  matter: Matter,
  current: Application,
  decision: Pick<DecisionRequest, 'form' | 'attachments'>,
  heldHere: AttachmentReads | undefined,
): Promise<Pick<Application, 'form' | 'attachments'>> {
  const { form, attachments } = withSupplement(current, decision)
  const added = decision.attachments ?? []
  const problems: TongbanError[] = []
  const formDetails = formProblems(matter, form)
  if (formDetails.length > 0) problems.push(new ValidationError('invalid_form', `the form does not match the ${matter.name} schema`, formDetails))
  problems.push(...unknownAttachmentProblems(matter, added, '/attachments'), ...missingAttachmentProblems(matter, attachments, '/attachments'))
  if (heldHere) problems.push(...(await heldProblems(heldHere, added, '/attachments')))
  throwProblems(problems)
  return { form, attachments }
}

/** Licence problems are reported where the decision carries them: under /licence. */
function underLicence(error: unknown): never {
  if (error instanceof TongbanError && error.status === 422) {
    const details: ProblemDetail[] = error.details.map((d) => ({ ...d, ...(d.pointer !== undefined ? { pointer: `/licence${d.pointer}` } : {}) }))
    throw new ValidationError(error.code, error.message, details)
  }
  throw error
}

function today(at: Date): string {
  return at.toISOString().slice(0, 10)
}

/**
 * Takes one decision on an application in one transaction: the state machine's check, the new
 * event, and for an approval the licence itself. A decision that does not apply in the current
 * state is a 409 and changes nothing.
 */
export async function decide(
  deps: ApplicationServiceDeps,
  id: string,
  decision: DecisionRequest,
  actor: Actor,
  options: {
    idempotency?: { scope: string; key: string; hash: string }
    /** The partner region whose window took a supplement and holds its documents; absent: this region's window. */
    documentsAt?: string
    /** The accepting region's request the step is taken on: kept in its detail, so that region knows its request in the event. */
    requestId?: string
  } = {},
): Promise<{ application: Application; licence?: Licence; replayed?: true }> {
  let issued: Licence | undefined
  let replayed = false
  const idempotency = options.idempotency
  const application = await deps.store.transaction(async (tx) => {
    if (idempotency) {
      const claim = await tx.claimIdempotencyKey(idempotency.scope, idempotency.key, idempotency.hash)
      if (claim !== 'claimed') {
        if (claim.requestHash !== idempotency.hash) throw new IdempotencyKeyReusedError('this request id was used for a different decision')
        replayed = true
        return (await tx.lockApplication(id)) as Application
      }
    }
    const current = await tx.lockApplication(id)
    if (!current) throw new NotFoundError('application_not_found', `no application ${id}`)
    // The handling region keeps the one timeline; steps asked for at the accepting window reach it as requests (partner-requests.ts).
    if (current.handlingRegion.code !== deps.region.code) throw new InvalidTransitionError(`${current.handlingRegion.name} handles this application`)
    const rule = DECISIONS[decision.action]
    if (!rule.from.includes(current.status)) throw new InvalidTransitionError(`a ${current.status} application cannot take ${decision.action}`)
    const matter = findMatter(current.matterCode)
    if (!matter) throw new ValidationError('unknown_matter', `matter ${current.matterCode} is no longer in the catalogue`)
    const now = deps.clock.now()
    const next: Application = { ...current, sequence: current.sequence + 1, updatedAt: now }
    const detail: Record<string, unknown> = options.requestId ? { request: options.requestId } : {}
    if (decision.action === 'supplement') {
      const { form, attachments } = await supplemented(matter, current, decision, options.documentsAt === undefined ? tx : undefined)
      if (options.documentsAt !== undefined) await enqueueAttachmentFetches(tx, deps.newId, id, options.documentsAt, decision.attachments ?? [])
      Object.assign(next, { form, attachments, status: current.resumeStatus ?? 'received', resumeStatus: null })
      if (decision.form) detail.form = 'replaced'
      if (decision.attachments?.length) detail.attachments = decision.attachments
    } else if (decision.action === 'request-more') {
      Object.assign(next, { status: 'more_requested', resumeStatus: current.status })
      detail.missing = decision.missing ?? []
    } else if (decision.action === 'approve') {
      await requireAllHeld(tx, current.attachments)
      const given = decision.licence as NonNullable<DecisionRequest['licence']>
      const request = {
        type: matter.licenceType.key,
        holder: given.holder ?? current.applicant,
        fields: { ...licenceFieldsFromForm(matter, current.form), ...given.fields },
        validFrom: given.validFrom ?? today(now),
        validUntil: given.validUntil,
      }
      issued = await issueLicenceInTransaction(deps.licences, tx, request, actor).catch(underLicence)
      Object.assign(next, { status: 'approved', licenceId: issued.id })
      detail.licence = { id: issued.id, number: issued.number }
    } else {
      next.status = rule.to as Application['status']
      next.resumeStatus = null
    }
    const event: ApplicationEvent = { applicationId: id, sequence: next.sequence, action: decision.action, from: current.status, to: next.status, actor: actor.id, reason: decision.reason ?? null, detail, at: now }
    await tx.updateApplication(next)
    await tx.insertApplicationEvent(event)
    await deps.onStep?.(tx, next, event)
    if (idempotency) await tx.completeIdempotencyKey(idempotency.scope, idempotency.key, 200, { id, sequence: next.sequence })
    return next
  })
  if (replayed) return { application, replayed: true }
  if (issued) deps.licences.onLicenceChanged(issued)
  deps.afterStep?.()
  return { application, ...(issued ? { licence: issued } : {}) }
}
