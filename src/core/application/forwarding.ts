import { IdempotencyKeyReusedError, OutsideAgreementError, TongbanError, ValidationError } from '../errors'
import { partnerCallMessage } from '../outbox/partner-message'
import type { Clock, JwsSigner, Store, StoreTransaction } from '../ports'
import { requestHash } from '../request-hash'
import type { Applicant, Application, ApplicationEvent, AttachmentRef, Region } from './application'
import { contentProblems, throwProblems } from './application-service'
import { enqueueAttachmentFetches } from './attachment-fetch'
import type { AttestationKeyOf } from '../partner/partner-statement'
import { signIdentityCheck, verifyIdentityCheck } from './identity-check'
import { findMatter } from './matters'

/** 异地受理 → 远程办理: an application accepted here for a partner goes to it through the outbox (contracts/partner-api.md). */
export const FORWARD_TOPIC = 'application.forward'
export const FORWARD_PATH = '/v1/partner/applications'

/** The application as the accepting region sends it: what it holds, minus its own bookkeeping. */
export interface ForwardedApplication {
  id: string
  matter: string
  applicant: Applicant
  form: Record<string, unknown>
  attachments: AttachmentRef[]
  acceptingRegion: Region
  handlingRegion: Region
  submittedAt: string
  submittedBy: string
}

export interface ForwardRequest {
  application: ForwardedApplication
  /** Compact JWS, typ tongban-identity-check+jwt, by the accepting region's attestation-signer key. */
  identityCheck: string
}

export interface ForwardingDeps {
  region: Region
  publicUrl: string
  /** The attestation-signer key: the identity check is this region's statement, like its receipts. */
  attestation: JwsSigner
}

/**
 * Enqueues the forward of an application accepted here for a partner, inside the transaction
 * that stores it, so it exists exactly when the application does and survives a restart. The
 * message id is the application id: the partner stores the application once under it, however
 * often the outbox delivers it.
 */
export async function enqueueForward(deps: ForwardingDeps, tx: StoreTransaction, application: Application, event: ApplicationEvent): Promise<void> {
  if (event.action !== 'submit' || application.handlingRegion.code === deps.region.code) return
  const body: ForwardRequest = {
    application: {
      id: application.id,
      matter: application.matterCode,
      applicant: application.applicant,
      form: application.form,
      attachments: application.attachments,
      acceptingRegion: application.acceptingRegion,
      handlingRegion: application.handlingRegion,
      submittedAt: event.at.toISOString(),
      submittedBy: event.actor,
    },
    identityCheck: await signIdentityCheck(deps.attestation, deps.publicUrl, application, event),
  }
  await tx.enqueueMessage(partnerCallMessage({ id: application.id, topic: FORWARD_TOPIC, partner: application.handlingRegion.code, method: 'POST', path: FORWARD_PATH, body, subject: application.id }))
  // The documents stay here; the handling region fetches them by digest (GET /v1/partner/attachments/{sha256}).
  await tx.offerAttachments(application.id, application.handlingRegion.code, application.attachments.map((a) => a.sha256))
}

/** An application id that is taken here by another application (not a repeat of this forward). */
export class ApplicationExistsError extends TongbanError {
  readonly code = 'application_exists'
  readonly status = 409
}

export interface IncomingDeps {
  store: Store
  clock: Clock
  newId: () => string
  region: Region
  /** The matter codes the agreement in force lets `partner` accept on this region's behalf. */
  mattersAcceptedBy(partner: string, at: Date): string[]
  attestationKeyOf: AttestationKeyOf
}

export type IncomingResult = { replayed: boolean; status: number; body: { id: string; status: string } }

const IDEMPOTENCY_SCOPE = 'partner-application'

/**
 * `POST /v1/partner/applications`: a partner forwards an application it accepted for us. It is
 * checked as one made at our own window would be, plus: it must come from the region that
 * accepted it, be for us, be a matter the agreement lets the caller accept for us, and carry
 * the caller's valid identity check. It is stored once under its id; a repeat of the same
 * forward (the outbox delivers at least once) changes nothing and gets the first answer. The
 * documents it names are fetched from the caller by jobs enqueued with it (attachment-fetch.ts).
 */
export async function receiveForward(deps: IncomingDeps, caller: string, request: ForwardRequest): Promise<IncomingResult> {
  const forwarded = request.application
  const now = deps.clock.now()
  const problems: TongbanError[] = []
  if (forwarded.acceptingRegion.code !== caller) {
    problems.push(new ValidationError('invalid_forward', `${caller} cannot forward an application accepted by ${forwarded.acceptingRegion.code}`, [{ pointer: '/application/acceptingRegion', message: 'must be the calling region' }]))
  }
  if (forwarded.handlingRegion.code !== deps.region.code) {
    problems.push(new ValidationError('invalid_forward', `the application is for ${forwarded.handlingRegion.code}, not ${deps.region.code}`, [{ pointer: '/application/handlingRegion', message: 'must be this region' }]))
  }
  throwProblems(problems)
  const matter = findMatter(forwarded.matter)
  // Outside the agreement is a refusal of the caller, not of the document: a 403, before its content is looked at.
  if (!matter || !deps.mattersAcceptedBy(caller, now).includes(matter.code)) {
    throw new OutsideAgreementError('outside_agreement', `the agreement in force does not let ${caller} accept ${matter?.name ?? forwarded.matter} for ${deps.region.code}`)
  }
  throwProblems(contentProblems(matter, forwarded).map(underApplication))
  const check = await verifyIdentityCheck(request.identityCheck, { caller, audience: deps.region.code, applicationId: forwarded.id, applicant: forwarded.applicant }, deps.attestationKeyOf)

  const hash = await requestHash(forwarded)
  return deps.store.transaction(async (tx): Promise<IncomingResult> => {
    const claim = await tx.claimIdempotencyKey(IDEMPOTENCY_SCOPE, `${caller}:${forwarded.id}`, hash)
    if (claim !== 'claimed') {
      if (claim.requestHash !== hash) throw new IdempotencyKeyReusedError(`application ${forwarded.id} was forwarded before with different content`)
      return { replayed: true, status: claim.status, body: claim.body as IncomingResult['body'] }
    }
    const application: Application = {
      id: forwarded.id,
      matterCode: matter.code,
      applicant: forwarded.applicant,
      form: forwarded.form,
      attachments: forwarded.attachments,
      acceptingRegion: forwarded.acceptingRegion,
      handlingRegion: deps.region,
      status: 'received',
      resumeStatus: null,
      licenceId: null,
      sequence: 1,
      createdAt: now,
      updatedAt: now,
    }
    if (!(await tx.insertApplication(application))) throw new ApplicationExistsError(`an application ${forwarded.id} exists here already`)
    const event: ApplicationEvent = {
      applicationId: application.id,
      sequence: 1,
      action: 'submit',
      from: null,
      to: 'received',
      actor: `partner:${caller} ${forwarded.submittedBy}`,
      reason: null,
      // The statement is kept with the step it supports: it is the evidence of who checked the applicant.
      detail: { acceptedBy: forwarded.acceptingRegion, submittedAt: forwarded.submittedAt, identityCheck: { jws: request.identityCheck, checkedBy: check.checkedBy, method: check.method } },
      at: now,
    }
    await tx.insertApplicationEvent(event)
    await enqueueAttachmentFetches(tx, deps.newId, application.id, caller, application.attachments)
    const body = { id: application.id, status: application.status }
    await tx.completeIdempotencyKey(IDEMPOTENCY_SCOPE, `${caller}:${forwarded.id}`, 201, body)
    return { replayed: false, status: 201, body }
  })
}

/** Content problems of a forwarded application point into `/application`, where it is in the request. */
function underApplication(error: TongbanError): TongbanError {
  return new ValidationError(error.code, error.message, error.details.map((d) => ({ ...d, ...(d.pointer !== undefined ? { pointer: `/application${d.pointer}` } : {}) })))
}
