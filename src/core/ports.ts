import type { Application, ApplicationEvent } from './application/application'
import type { CollectionState, LicenceCollection, Verdict } from './application/application'
import type { Licence, LicenceStatus, LicenceEvent } from './licence/licence'
import type { OutboxWrites } from './outbox/outbox'
import type { SupervisionReads } from './supervision/supervision-system'
import type { SubscriptionReads } from './holder/licence-subscription'
import type { TrustedSigner } from './trust/trusted-signer'

/**
 * The ports the core needs from the outside world. Adapters implement them (PostgreSQL or
 * PGlite, WebCrypto keys, in-memory caches); the core never imports an adapter.
 */

export interface Clock {
  now(): Date
}

/** Signs a JSON payload as a compact JWS with a document-signer key. */
export interface JwsSigner {
  readonly kid: string
  readonly alg: string
  sign(payload: unknown, header: { typ: string; [name: string]: unknown }): Promise<string>
}

export interface StatusListSlot {
  listId: string
  index: number
}

export interface StoredStatusList {
  id: string
  purpose: 'revocation' | 'suspension'
  size: number
  used: number
}

export interface IdempotentResult {
  requestHash: string
  status: number
  body: unknown
}

/** Application writes, inside a transaction. */
export interface ApplicationWrites {
  /** False when an application with this id exists already (a duplicate delivery). */
  insertApplication(application: Application): Promise<boolean>
  /** Locks the application row for the rest of the transaction. */
  lockApplication(id: string): Promise<Application | undefined>
  updateApplication(application: Application): Promise<void>
  /** False when the timeline already holds an event with this sequence number. */
  insertApplicationEvent(event: ApplicationEvent): Promise<boolean>
  findApplicationEvent(applicationId: string, sequence: number): Promise<ApplicationEvent | undefined>
  /** The timeline as this transaction sees it, in sequence order. */
  listApplicationEvents(applicationId: string): Promise<ApplicationEvent[]>
  /** The body of a partner call this region enqueued about the application (a request to its handling region), by message id. */
  findSentRequest(applicationId: string, messageId: string): Promise<unknown>
  /** False when the application has a collection already. */
  insertCollection(collection: LicenceCollection): Promise<boolean>
  /** Locks the collection row for the rest of the transaction. */
  lockCollection(applicationId: string): Promise<LicenceCollection | undefined>
  updateCollection(collection: LicenceCollection): Promise<void>
}

/** An outbox message about an application, as its view shows it. */
export interface ApplicationMessage {
  id: string
  topic: string
  destination: string
  state: 'pending' | 'delivered' | 'abandoned'
  attempts: number
  lastError: string | null
  createdAt: Date
  deliveredAt: Date | null
}

export interface CollectionAttempt {
  state: Exclude<CollectionState, 'handed_over'>
  lastError: string | null
  at: Date
  /** The verified licence, when the attempt made the collection ready. */
  licence?: { pdf: Uint8Array; credential: string; verification: { pdf: Verdict; credential: Verdict } }
}

export interface ApplicationReads {
  getApplication(id: string): Promise<Application | undefined>
  listApplicationEvents(applicationId: string): Promise<ApplicationEvent[]>
  /** The application a licence was issued for here, if any. */
  findApplicationByLicence(licenceId: string): Promise<Application | undefined>
  /** Every outbox message about the application: its forward, requests, events, collection. */
  listApplicationMessages(applicationId: string): Promise<ApplicationMessage[]>
  getCollection(applicationId: string): Promise<LicenceCollection | undefined>
  /** Records one attempt of a collection job; a collection handed over already is left as it is. */
  recordCollectionAttempt(applicationId: string, attempt: CollectionAttempt): Promise<void>
}

/** A document held here under its SHA-256: the document an application's attachment names. */
export interface HeldAttachment {
  /** Lower-case hex SHA-256 of the content. */
  sha256: string
  mediaType: string
  size: number
  createdAt: Date
}

export interface AttachmentReads {
  /** Those of these digests whose documents are held here. */
  heldAttachments(sha256s: readonly string[]): Promise<HeldAttachment[]>
}

/** Attachment writes, inside a transaction. */
export interface AttachmentWrites extends AttachmentReads {
  /**
   * Records that these documents, held here, were offered to `region` for an application
   * accepted here (its forward, a supplement asked of it): that region may fetch them.
   */
  offerAttachments(applicationId: string, region: string, sha256s: readonly string[]): Promise<void>
}

/** The attachment store: documents by SHA-256, uploaded at the window or fetched from a partner. */
export interface AttachmentStore extends AttachmentReads {
  /** Keeps a document under its digest; false when it is held already. */
  storeAttachment(attachment: HeldAttachment, content: Uint8Array): Promise<boolean>
  attachmentContent(sha256: string): Promise<{ attachment: HeldAttachment; content: Uint8Array } | undefined>
  /** The document, only when it was offered to `region` for an application accepted here. */
  attachmentOfferedTo(region: string, sha256: string): Promise<{ attachment: HeldAttachment; content: Uint8Array } | undefined>
}

/** One database transaction: every write of one request happens inside one of these. */
export interface StoreTransaction extends ApplicationWrites, AttachmentWrites, OutboxWrites, SupervisionReads, SubscriptionReads {
  nextSequence(name: string): Promise<number>
  /** Allocates the next free index in the current list of a purpose, opening a new list when full. */
  allocateStatusSlot(purpose: 'revocation' | 'suspension', listSize: number): Promise<StatusListSlot>
  insertLicence(licence: Licence): Promise<void>
  updateLicenceStatus(id: string, status: LicenceStatus, reason: string | null): Promise<void>
  /** Locks the licence row for the rest of the transaction. */
  lockLicence(id: string): Promise<Licence | undefined>
  insertLicenceEvent(event: LicenceEvent): Promise<void>
  /** Claims an idempotency key; returns the earlier result when the key was used before. */
  claimIdempotencyKey(scope: string, key: string, requestHash: string): Promise<IdempotentResult | 'claimed'>
  completeIdempotencyKey(scope: string, key: string, status: number, body: unknown): Promise<void>
}

export interface Store extends ApplicationReads, AttachmentStore {
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>
  getLicence(id: string): Promise<Licence | undefined>
  /** The licence with this GB/T 36904 number (one version), if any. */
  findLicenceByNumber(number: string): Promise<Licence | undefined>
  listLicenceEvents(licenceId: string): Promise<LicenceEvent[]>
  listStatusLists(): Promise<StoredStatusList[]>
  /** Indices whose bit is set in a list: revoked or superseded for revocation, suspended for suspension. */
  setStatusIndices(listId: string): Promise<number[]>
  getTrustListState(): Promise<{ sequence: number; contentHash: string; jws: string; validUntil: Date } | undefined>
  /** Saves a newer trust list; false when another process saved one with this sequence or later first. */
  saveTrustListState(state: { sequence: number; contentHash: string; jws: string; validUntil: Date }): Promise<boolean>
}

/** Looks up signers the region trusts (its own, and later its partners'). */
export interface TrustStore {
  findSigner(kid: string): TrustedSigner | undefined
}

export type StatusBit = { known: true; set: boolean } | { known: false; reason: string }

/** Answers status list look-ups from memory; never fetches a URL named in a credential. */
export interface StatusSource {
  /**
   * Brings a status list into memory before it is asked about, when it is one the source may
   * fetch (a partner's, from the base its pinned trust list names); undefined when there is
   * nothing to wait for, which is every own list.
   */
  prepare?(statusListCredential: string): Promise<void> | undefined
  statusBit(statusListCredential: string, index: number): StatusBit
}

export interface Jwk {
  kid: string
  kty: string
  alg: string
  use: 'sig'
  x5c: string[]
  [member: string]: unknown
}

/** What the region publishes about itself: its signed trust list, JWKS and root fingerprint. */
export interface Publication {
  trustList(): Promise<string>
  jwks(): Promise<{ keys: Jwk[] }>
  rootFingerprint: string
}

/** A certificate an admin trusts for PDF signatures made outside the region's PKI. */
export interface TrustAnchor {
  id: string
  sha256: string
  subject: string
  label: string | null
  /** Base64 DER. */
  certificate: string
  createdAt: Date
}
