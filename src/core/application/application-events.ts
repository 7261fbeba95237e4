import { NotFoundError, TongbanError, ValidationError } from '../errors'
import { partnerCallMessage } from '../outbox/partner-message'
import { verifyPartnerStatement, type AttestationKeyOf } from '../partner/partner-statement'
import type { Clock, JwsSigner, Store, StoreTransaction } from '../ports'
import { APPLICATION_STATUSES, DECISIONS, withSupplement, type Application, type ApplicationEvent, type ApplicationStatementClaims, type ApplicationStatus, type DecisionAction, type Region } from './application'
import { startCollection } from './collection'
import type { DecisionRequestBody } from './partner-requests'

/** The JWS `typ` of an application event (contracts/partner-api.md); never taken for a credential, receipt or identity check. */
export const APPLICATION_EVENT_TYP = 'tongban-application-event+jwt'
export const APPLICATION_EVENT_TOPIC = 'application.event'
export const EVENTS_PATH = '/v1/partner/events'

/** A step as the handling region states it to the accepting region. */
export interface ApplicationEventClaims extends ApplicationStatementClaims {
  event: {
    sequence: number
    action: string
    from: string | null
    to: string
    actor: string
    reason: string | null
    detail: Record<string, unknown>
    at: string
  }
}

export interface EventSendingDeps {
  region: Region
  publicUrl: string
  /** The attestation-signer key: an event is this region's statement, like its receipts. */
  attestation: JwsSigner
  newId: () => string
}

/**
 * 远程办理 → 异地受理: every step taken here on an application another region accepted is sent
 * back to it as a signed event, enqueued in the step's own transaction so that a crash between
 * the decision and the sending loses nothing. The first step (the forward itself, sequence 1)
 * the accepting region holds already.
 */
export async function enqueueEventForAcceptingRegion(deps: EventSendingDeps, tx: StoreTransaction, application: Application, event: ApplicationEvent): Promise<void> {
  const accepting = application.acceptingRegion.code
  if (application.handlingRegion.code !== deps.region.code || accepting === deps.region.code || event.sequence < 2) return
  const id = deps.newId()
  const claims: ApplicationEventClaims = {
    iss: deps.publicUrl,
    region: deps.region,
    aud: accepting,
    jti: id,
    iat: Math.floor(event.at.getTime() / 1000),
    applicationId: application.id,
    event: { sequence: event.sequence, action: event.action, from: event.from, to: event.to, actor: event.actor, reason: event.reason, detail: event.detail, at: event.at.toISOString() },
  }
  const statement = await deps.attestation.sign(claims, { typ: APPLICATION_EVENT_TYP })
  await tx.enqueueMessage(partnerCallMessage({ id, topic: APPLICATION_EVENT_TOPIC, partner: accepting, method: 'POST', path: EVENTS_PATH, body: { event: statement }, subject: application.id }))
}

export interface EventReceivingDeps {
  store: Store
  clock: Clock
  region: Region
  newId: () => string
  attestationKeyOf: AttestationKeyOf
}

export interface ReceivedEvent {
  applicationId: string
  sequence: number
  /** The application's status here after the event: the status of the newest step held. */
  status: ApplicationStatus
  duplicate: boolean
}

const ACTIONS = Object.keys(DECISIONS) as DecisionAction[]
const isUuid = (value: unknown) => typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
const isStatus = (value: unknown): value is ApplicationStatus => typeof value === 'string' && (APPLICATION_STATUSES as readonly string[]).includes(value)

/** What is wrong with the event's claims, for this region; an empty list when nothing is. */
function claimProblems(claims: ApplicationEventClaims, caller: string, audience: string): string[] {
  const problems: string[] = []
  if (claims.region?.code !== caller) problems.push(`it is not ${caller}'s statement`)
  if (claims.aud !== audience) problems.push(`it is addressed to ${String(claims.aud)}, not ${audience}`)
  if (!isUuid(claims.applicationId)) problems.push('applicationId must be an application id')
  const event = claims.event
  if (typeof event !== 'object' || event === null) return [...problems, 'event must be an object']
  if (!Number.isSafeInteger(event.sequence) || event.sequence < 2) problems.push('event.sequence must be an integer of at least 2 (the first step is the forward)')
  if (!ACTIONS.includes(event.action as DecisionAction)) problems.push(`event.action must be one of ${ACTIONS.join(', ')}`)
  if (event.from !== null && !isStatus(event.from)) problems.push('event.from must be a status or null')
  if (!isStatus(event.to)) problems.push('event.to must be a status')
  if (typeof event.actor !== 'string' || event.actor.length === 0 || event.actor.length > 300) problems.push('event.actor must be a string')
  if (event.reason !== null && typeof event.reason !== 'string') problems.push('event.reason must be a string or null')
  if (typeof event.detail !== 'object' || event.detail === null || Array.isArray(event.detail)) problems.push('event.detail must be an object')
  if (typeof event.at !== 'string' || Number.isNaN(Date.parse(event.at))) problems.push('event.at must be a time')
  return problems
}

function invalidEvent(why: string): TongbanError {
  return new ValidationError('invalid_event', `the application event is not valid: ${why}`, [{ pointer: '/event', message: why }])
}

/** The licence an approval names in its detail, when it names one. */
function approvedLicence(event: ApplicationEventClaims['event']): { id: string; number: string } | undefined {
  const licence = event.detail.licence as { id?: unknown; number?: unknown } | undefined
  return event.action === 'approve' && isUuid(licence?.id) && typeof licence?.number === 'string' ? { id: licence.id as string, number: licence.number } : undefined
}

/**
 * `POST /v1/partner/events`: the handling region tells this region, where the application was
 * accepted, of a step it took. The event must be the caller's signed statement, for us, about
 * an application accepted here and handled by the caller. Each step is kept once under its
 * sequence number, with the statement; a repeat is ignored, and a different statement for a
 * number held is refused. The status here is that of the newest step held, so events that
 * arrive out of order end in the same state as in the handling region. An approval starts the
 * collection of the licence (collection.ts) in the same transaction.
 */
export async function receiveApplicationEvent(deps: EventReceivingDeps, caller: string, statement: string): Promise<ReceivedEvent> {
  const verified = await verifyPartnerStatement<ApplicationEventClaims>(statement, APPLICATION_EVENT_TYP, caller, deps.attestationKeyOf)
  if (!verified.ok) throw invalidEvent(verified.why)
  const claims = verified.claims
  const problems = claimProblems(claims, caller, deps.region.code)
  if (problems.length > 0) throw invalidEvent(problems.join('; '))
  const step = claims.event
  return deps.store.transaction(async (tx): Promise<ReceivedEvent> => {
    const current = await tx.lockApplication(claims.applicationId)
    // Another region's application is as unknown to the caller as one that does not exist.
    if (!current || current.acceptingRegion.code !== deps.region.code || current.handlingRegion.code !== caller) {
      throw new NotFoundError('application_not_found', `no application ${claims.applicationId} was forwarded from here to ${caller}`)
    }
    const event: ApplicationEvent = {
      applicationId: current.id,
      sequence: step.sequence,
      action: step.action as DecisionAction,
      from: step.from as ApplicationStatus | null,
      to: step.to as ApplicationStatus,
      actor: `partner:${caller} ${step.actor}`,
      reason: step.reason,
      detail: step.detail,
      at: new Date(step.at),
      statement,
    }
    if (!(await tx.insertApplicationEvent(event))) {
      const held = await tx.findApplicationEvent(current.id, step.sequence)
      if (held?.statement !== statement) throw new EventConflictError(`step ${step.sequence} of application ${current.id} is held here with another statement`)
      return { applicationId: current.id, sequence: step.sequence, status: current.status, duplicate: true }
    }
    let next = current
    if (step.sequence > current.sequence) next = { ...next, status: event.to, sequence: step.sequence }
    const supplement = await ownSupplementTaken(tx, current, event)
    if (supplement) next = { ...next, ...supplement }
    if (next !== current) await tx.updateApplication({ ...next, updatedAt: deps.clock.now() })
    const status = next.status
    const licence = approvedLicence(step)
    if (licence) await startCollection(tx, { applicationId: current.id, region: caller, licenceId: licence.id, number: licence.number }, deps.clock.now(), deps.newId)
    return { applicationId: current.id, sequence: step.sequence, status, duplicate: false }
  })
}

/**
 * The form and attachments after a supplement this region's window asked for (partner-requests.ts)
 * and the handling region took: its event names the request, whose content this region sent and
 * still has. Undefined for any other step, and for a supplement older than one held already,
 * which must not undo it.
 */
async function ownSupplementTaken(tx: StoreTransaction, current: Application, event: ApplicationEvent): Promise<Pick<Application, 'form' | 'attachments'> | undefined> {
  const requestId = event.detail.request
  if (event.action !== 'supplement' || typeof requestId !== 'string') return undefined
  const request = (await tx.findSentRequest(current.id, requestId)) as Partial<DecisionRequestBody> | undefined
  if (request?.action !== 'supplement') return undefined
  const timeline = await tx.listApplicationEvents(current.id)
  if (timeline.some((held) => held.action === 'supplement' && held.sequence > event.sequence)) return undefined
  return withSupplement(current, request)
}

/** A step number held here with a different statement: the handling region contradicts itself. */
export class EventConflictError extends TongbanError {
  readonly code = 'event_conflict'
  readonly status = 409
}
