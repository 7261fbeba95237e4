import { InvalidTransitionError, NotFoundError, ValidationError } from '../errors'
import { partnerCallMessage } from '../outbox/partner-message'
import type { Clock, Store } from '../ports'
import { requestHash } from '../request-hash'
import type { Actor } from '../licence/licence-service'
import { DECISIONS, type Application, type AttachmentRef } from './application'
import { decide, supplemented, type ApplicationServiceDeps, type DecisionRequest } from './application-service'
import { findMatter } from './matters'

/**
 * The steps the applicant takes at the accepting region's window on an application another
 * region handles: withdrawing it, and bringing what was asked for. The handling region keeps
 * the one timeline, so these travel to it as requests (through the outbox, like the forward),
 * and come back as its events.
 */
export const REQUESTABLE_ACTIONS = ['withdraw', 'supplement'] as const
export type RequestableAction = (typeof REQUESTABLE_ACTIONS)[number]

export const DECISION_REQUEST_TOPIC = 'application.decision-request'
export const decisionRequestPath = (applicationId: string) => `/v1/partner/applications/${applicationId}/decisions`

export interface DecisionRequestBody {
  /** Stable across deliveries: the handling region takes the step once under it. */
  requestId: string
  action: RequestableAction
  reason?: string
  form?: Record<string, unknown>
  attachments?: AttachmentRef[]
  /** Who took the request at the window. */
  actor: string
  at: string
}

export interface RequestingDeps {
  store: Store
  clock: Clock
  newId: () => string
  /** Called after the request committed: it can be sent now rather than at the next tick. */
  afterStep?: () => void
}

const isRequestable = (action: string): action is RequestableAction => (REQUESTABLE_ACTIONS as readonly string[]).includes(action)

/**
 * At the accepting region: checks the step against the copy of the timeline held here (a
 * request the copy already rules out is refused at once, with a 409 or 422 as the handling
 * region would give) and enqueues it for the handling region. The status here changes when the
 * handling region's event comes back.
 */
export async function requestOfHandlingRegion(deps: RequestingDeps, id: string, decision: DecisionRequest, actor: Actor): Promise<{ application: Application; requestId: string }> {
  const requestId = deps.newId()
  const application = await deps.store.transaction(async (tx) => {
    const current = await tx.lockApplication(id)
    if (!current) throw new NotFoundError('application_not_found', `no application ${id}`)
    const handler = current.handlingRegion
    if (!isRequestable(decision.action)) {
      throw new InvalidTransitionError(`${handler.name} handles this application; only ${REQUESTABLE_ACTIONS.join(' and ')} can be asked of it from this window`)
    }
    if (!DECISIONS[decision.action].from.includes(current.status)) throw new InvalidTransitionError(`a ${current.status} application cannot take ${decision.action}`)
    if (decision.action === 'supplement') {
      const matter = findMatter(current.matterCode)
      if (!matter) throw new ValidationError('unknown_matter', `matter ${current.matterCode} is no longer in the catalogue`)
      // The documents stay here, where the applicant brought them: the handling region may fetch them now.
      await supplemented(matter, current, decision, tx)
      await tx.offerAttachments(id, handler.code, (decision.attachments ?? []).map((a) => a.sha256))
    }
    const body: DecisionRequestBody = {
      requestId,
      action: decision.action,
      ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
      ...(decision.form !== undefined ? { form: decision.form } : {}),
      ...(decision.attachments !== undefined ? { attachments: decision.attachments } : {}),
      actor: actor.id,
      at: deps.clock.now().toISOString(),
    }
    await tx.enqueueMessage(
      partnerCallMessage({ id: requestId, topic: DECISION_REQUEST_TOPIC, partner: handler.code, method: 'POST', path: decisionRequestPath(id), body, subject: id }),
    )
    return current
  })
  deps.afterStep?.()
  return { application, requestId }
}

/**
 * At the handling region (`POST /v1/partner/applications/{id}/decisions`): the accepting
 * region asks for a step on an application it accepted for us. It is taken as the decision of
 * the caller's window, under the state machine like any other, once per request id however
 * often the request is delivered. A supplement's documents stay with the caller and are
 * fetched from it (attachment-fetch.ts).
 */
export async function takeRequestedDecision(deps: ApplicationServiceDeps, caller: string, id: string, body: DecisionRequestBody): Promise<{ id: string; status: string; sequence: number }> {
  const application = await deps.store.getApplication(id)
  // Another region's application is as unknown to the caller as one that does not exist.
  if (!application || application.acceptingRegion.code !== caller || application.handlingRegion.code !== deps.region.code) {
    throw new NotFoundError('application_not_found', `no application ${id} was forwarded by ${caller}`)
  }
  const { requestId, actor, at: _at, ...decision } = body
  const result = await decide(deps, id, decision, { id: `partner:${caller} ${actor}` }, { idempotency: { scope: 'partner-decision', key: `${caller}:${requestId}`, hash: await requestHash(body) }, documentsAt: caller, requestId })
  return { id, status: result.application.status, sequence: result.application.sequence }
}
