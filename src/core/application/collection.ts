import { InvalidTransitionError, NotFoundError, ServiceUnavailableError, TongbanError } from '../errors'
import type { OutboxMessage, SendOutcome } from '../outbox/outbox'
import type { Clock, Store, StoreTransaction } from '../ports'
import type { VerificationReport } from '../verification/report'
import type { LicenceCollection, Verdict } from './application'

/**
 * 异地领证, at the accepting region: the licence the handling region issued is fetched from it,
 * verified here with that region's trust list, and kept until window staff hand it over.
 * Nothing is handed over that this region has not verified itself.
 */
export const COLLECTION_TOPIC = 'licence.collect'
/** Collection jobs go through the outbox under this scheme, retried like any message until they succeed or fail for good. */
export const COLLECTION_SCHEME = 'collect'

interface CollectionJob {
  applicationId: string
  region: string
  licenceId: string
  number: string
}

/**
 * Inside the transaction that learns of the approval: the collection is recorded as waiting and
 * its job enqueued, so it exists exactly when the approval does here and survives a restart.
 * A repeat of the same approval changes nothing.
 */
export async function startCollection(tx: StoreTransaction, job: CollectionJob, at: Date, newId: () => string): Promise<void> {
  const started = await tx.insertCollection({
    applicationId: job.applicationId,
    issuingRegion: job.region,
    licenceId: job.licenceId,
    licenceNumber: job.number,
    state: 'waiting',
    pdf: null,
    credential: null,
    verification: null,
    lastError: null,
    createdAt: at,
    updatedAt: at,
    readyAt: null,
    handedOverAt: null,
    handedOverBy: null,
  })
  if (!started) return
  await tx.enqueueMessage({ id: newId(), topic: COLLECTION_TOPIC, destination: `${COLLECTION_SCHEME}:${job.applicationId}`, headers: {}, body: JSON.stringify(job), subject: job.applicationId })
}

/** What the handling region answered for the licence: its signed PDF and its credential. */
export type FetchedLicence = { kind: 'fetched'; pdf: Uint8Array; credential: string } | { kind: 'refused'; why: string }

/**
 * Verifies a licence collected from the region that issued it, as of `at`, with that region's
 * trust list and its freshest status: its status list is fetched again for every check rather
 * than taken from a copy up to PARTNER_STATUS_MAX_AGE_S old, so a revocation there is seen here
 * at once (a copy still inside its own validity is used only when the fetch fails).
 */
export interface CollectedLicenceVerifier {
  verifyPdf(pdf: Uint8Array, at: Date): Promise<VerificationReport>
  verifyCredential(credential: string, at: Date): Promise<VerificationReport>
}

export interface CollectionDeps extends CollectedLicenceVerifier {
  store: Store
  clock: Clock
  /** Fetches the licence from the region that issued it (signed partner calls); throws when it cannot be reached. */
  fetchLicence(region: string, licenceId: string): Promise<FetchedLicence>
}

const verdict = (report: VerificationReport): Verdict => ({ indication: report.indication, subIndication: report.subIndication })
const said = (report: VerificationReport) => `${report.indication}${report.subIndication ? ` ${report.subIndication}` : ''}`

/** Why a report does not let the licence be handed over as this job's, or undefined when it does. */
function mismatch(report: VerificationReport, job: CollectionJob, what: string): string | undefined {
  if (report.licence?.number !== job.number) return `the ${what} is of licence ${report.licence?.number ?? '(none)'}, not ${job.number}`
  if (report.issuer?.regionCode !== job.region) return `the ${what} was issued by ${report.issuer?.regionCode ?? '(unknown)'}, not ${job.region}`
  return undefined
}

/**
 * One attempt of a collection job, as the outbox's sender for `collect:` destinations. The PDF
 * and the credential must both verify TOTAL_PASSED here, and both be the licence the approval
 * named, issued by the handling region; then they are kept and the collection is ready. A
 * verdict that may change (INDETERMINATE: status not known yet, a partner down) is tried again
 * later; a refusal or a failed verification is final, and the collection shows why.
 */
export async function collectLicence(deps: CollectionDeps, message: OutboxMessage): Promise<SendOutcome> {
  const job = JSON.parse(message.body) as CollectionJob
  const fail = async (why: string): Promise<SendOutcome> => {
    await deps.store.recordCollectionAttempt(job.applicationId, { state: 'failed', lastError: why, at: deps.clock.now() })
    return { outcome: 'abandon', error: why }
  }
  const later = async (why: string): Promise<SendOutcome> => {
    await deps.store.recordCollectionAttempt(job.applicationId, { state: 'waiting', lastError: why, at: deps.clock.now() })
    return { outcome: 'retry', error: why }
  }
  let fetched: FetchedLicence
  try {
    fetched = await deps.fetchLicence(job.region, job.licenceId)
  } catch (error) {
    return later(`the licence could not be fetched from ${job.region}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (fetched.kind === 'refused') return fail(`${job.region} refused to hand over licence ${job.number}: ${fetched.why}`)
  const at = deps.clock.now()
  const [pdf, credential] = await Promise.all([deps.verifyPdf(fetched.pdf, at), deps.verifyCredential(fetched.credential, at)])
  for (const [report, what] of [[pdf, 'PDF'], [credential, 'credential']] as const) {
    const wrong = mismatch(report, job, what)
    if (wrong) return fail(wrong)
    if (report.indication === 'TOTAL_FAILED') return fail(`the ${what} does not verify: ${said(report)}`)
    if (report.indication === 'INDETERMINATE') return later(`the ${what} cannot be verified yet: ${said(report)}`)
  }
  await deps.store.recordCollectionAttempt(job.applicationId, {
    state: 'ready',
    lastError: null,
    at,
    licence: { pdf: fetched.pdf, credential: fetched.credential, verification: { pdf: verdict(pdf), credential: verdict(credential) } },
  })
  return { outcome: 'delivered' }
}

/** A hand-over refused because the licence, verified again at the window, no longer passes: revoked, suspended or expired since it was collected. */
export class CollectedLicenceNotValidError extends TongbanError {
  readonly code = 'collected_licence_not_valid'
  readonly status = 409
}

/**
 * Window staff hand the collected licence over to the applicant (领证); only a ready one can be,
 * and only while it still verifies: the credential is checked again as of now, with the issuing
 * region's freshest status, before the hand-over is recorded, because the issuing region may
 * have revoked or suspended it since it was collected. A refusal changes nothing: once the
 * licence passes again (reinstated), it can be handed over.
 */
export async function handOver(deps: { store: Store; clock: Clock; verifyCredential: CollectedLicenceVerifier['verifyCredential'] }, applicationId: string, actor: string): Promise<LicenceCollection> {
  const kept = await deps.store.getCollection(applicationId)
  if (!kept) throw new NotFoundError('collection_not_found', `no licence is being collected for application ${applicationId}`)
  if (kept.state !== 'ready' || kept.credential === null) throw notReady(kept)
  // Verified outside the transaction: the status list may have to be fetched from the issuing region.
  const report = await deps.verifyCredential(kept.credential, deps.clock.now())
  if (report.licence?.status === 'suspended') {
    throw new CollectedLicenceNotValidError(`licence ${kept.licenceNumber} is suspended by ${kept.issuingRegion} (${said(report)}): it is not handed over until it is reinstated`)
  }
  if (report.indication === 'TOTAL_FAILED') {
    throw new CollectedLicenceNotValidError(`licence ${kept.licenceNumber} of ${kept.issuingRegion} no longer verifies (${said(report)}), so it is not handed over`)
  }
  if (report.indication === 'INDETERMINATE') {
    throw new ServiceUnavailableError('collected_licence_status_unknown', `whether licence ${kept.licenceNumber} is still valid cannot be learned from ${kept.issuingRegion} now (${said(report)}); try the hand-over again later`)
  }
  return deps.store.transaction(async (tx) => {
    const collection = await tx.lockCollection(applicationId)
    if (!collection) throw new NotFoundError('collection_not_found', `no licence is being collected for application ${applicationId}`)
    if (collection.state !== 'ready') throw notReady(collection)
    const at = deps.clock.now()
    const handed: LicenceCollection = { ...collection, state: 'handed_over', handedOverAt: at, handedOverBy: actor, updatedAt: at }
    await tx.updateCollection(handed)
    return handed
  })
}

const notReady = (collection: LicenceCollection) => new InvalidTransitionError(`the licence is ${collection.state.replace('_', ' ')}, not ready to hand over`)
