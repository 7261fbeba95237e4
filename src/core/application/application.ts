import type { Holder } from '../licence/licence'
import type { Indication, SubIndication } from '../verification/report'

/**
 * An application (办件) for a matter. Its status is the state the newest event of its timeline
 * leads to; events are numbered per application, so a copy of the timeline kept by another region
 * converges on the same status whatever order it learnt the events in.
 */
export type ApplicationStatus = 'received' | 'accepted' | 'in_review' | 'more_requested' | 'approved' | 'rejected' | 'withdrawn'

export const FINAL_STATUSES: readonly ApplicationStatus[] = ['approved', 'rejected', 'withdrawn']

export const APPLICATION_STATUSES: readonly ApplicationStatus[] = ['received', 'accepted', 'in_review', 'more_requested', ...FINAL_STATUSES]

export type Applicant = Holder

export interface Region {
  code: string
  name: string
}

/**
 * What every statement one region signs for another about an application (an identity check, a
 * step) says of itself: who signed it (`iss`, `region`), for whom (`aud`), its id, when, and which
 * application it is about.
 */
export interface ApplicationStatementClaims {
  iss: string
  region: Region
  aud: string
  jti: string
  iat: number
  applicationId: string
}

export interface AttachmentRef {
  /** The matter's attachment key (`articles-of-association`). */
  key: string
  /**
   * SHA-256 of the document, lower-case hex: the document is identified by it wherever it is
   * kept. The accepting region holds it (POST /v1/attachments); a handling region fetches it
   * from there by this digest and checks it (attachment-fetch.ts).
   */
  sha256: string
  size: number
  mediaType: string
}

/**
 * An application's form and attachments after a supplement: a form given replaces the form
 * whole; its attachments replace those of the same key and add the rest.
 */
export function withSupplement(
  current: { form: Record<string, unknown>; attachments: readonly AttachmentRef[] },
  supplement: { form?: Record<string, unknown> | undefined; attachments?: readonly AttachmentRef[] | undefined },
): { form: Record<string, unknown>; attachments: AttachmentRef[] } {
  const added = supplement.attachments ?? []
  return { form: supplement.form ?? current.form, attachments: [...current.attachments.filter((a) => !added.some((b) => b.key === a.key)), ...added] }
}

export interface Application {
  id: string
  matterCode: string
  applicant: Applicant
  form: Record<string, unknown>
  attachments: AttachmentRef[]
  acceptingRegion: Region
  handlingRegion: Region
  status: ApplicationStatus
  /** While more is requested: the status the application returns to when it is supplemented. */
  resumeStatus: ApplicationStatus | null
  licenceId: string | null
  /** Sequence number of the newest event. */
  sequence: number
  createdAt: Date
  updatedAt: Date
}

export type ApplicationAction = 'submit' | 'accept' | 'review' | 'request-more' | 'supplement' | 'approve' | 'reject' | 'withdraw'

export interface ApplicationEvent {
  applicationId: string
  sequence: number
  action: ApplicationAction
  from: ApplicationStatus | null
  to: ApplicationStatus
  actor: string
  reason: string | null
  /** What the step carried: the missing items asked for, the licence issued, the supplemented attachments. */
  detail: Record<string, unknown>
  at: Date
  /**
   * On the accepting region's copy of a step the handling region took: the handling region's
   * signed statement of it (contracts/partner-api.md, "Application events"), kept as evidence.
   */
  statement?: string
}

export type DecisionAction = Exclude<ApplicationAction, 'submit'>

const OPEN: ApplicationStatus[] = ['received', 'accepted', 'in_review', 'more_requested']

/** Where each decision may be taken; `supplement` returns to the status more was requested in. */
export const DECISIONS: Record<DecisionAction, { from: readonly ApplicationStatus[]; to: ApplicationStatus | 'resume' }> = {
  accept: { from: ['received'], to: 'accepted' },
  review: { from: ['accepted'], to: 'in_review' },
  'request-more': { from: ['received', 'accepted', 'in_review'], to: 'more_requested' },
  supplement: { from: ['more_requested'], to: 'resume' },
  approve: { from: ['in_review'], to: 'approved' },
  reject: { from: ['received', 'accepted', 'in_review', 'more_requested'], to: 'rejected' },
  withdraw: { from: OPEN, to: 'withdrawn' },
}

/**
 * 异地领证: the licence the handling region issued for an application accepted here is fetched
 * from it, verified here with its trust list, and kept until window staff hand it over
 * (collection.ts).
 */
export type CollectionState = 'waiting' | 'ready' | 'failed' | 'handed_over'

export interface Verdict {
  indication: Indication
  subIndication: SubIndication | null
}

export interface LicenceCollection {
  applicationId: string
  /** GB/T 2260 code of the region that issued the licence: the application's handling region. */
  issuingRegion: string
  licenceId: string
  licenceNumber: string
  state: CollectionState
  /** The signed PDF as fetched, once verified. */
  pdf: Uint8Array | null
  /** The licence credential (compact JWS) as fetched, once verified. */
  credential: string | null
  verification: { pdf: Verdict; credential: Verdict } | null
  lastError: string | null
  createdAt: Date
  updatedAt: Date
  readyAt: Date | null
  handedOverAt: Date | null
  handedOverBy: string | null
}
