import type { AuditLog } from '../core/audit/audit-log'
import type { ApplicationServiceDeps } from '../core/application/application-service'
import type { CollectedLicenceVerifier } from '../core/application/collection'
import type { BankCheckDeps } from '../core/holder/bank-check'
import type { ConsentDeps } from '../core/holder/consent'
import type { HolderAuthenticator } from '../core/holder/holder'
import type { HolderCredentialDeps } from '../core/holder/holder-credential'
import type { LicenceUse, LicenceUses } from '../core/holder/licence-use'
import type { RelyingPartyDeps } from '../core/holder/relying-party'
import type { Licence } from '../core/licence/licence'
import type { LicenceServiceDeps } from '../core/licence/licence-service'
import type { PdfSealer } from '../core/seal/seal'
import type { SealServiceDeps } from '../core/seal/seal-service'
import type { Clock, JwsSigner, Publication, Store, TrustAnchor } from '../core/ports'
import type { PartnerCallRecord, PartnerScope } from '../core/partner/scope'
import type { SigningKey } from '../adapters/crypto/http-signatures'
import type { Agreements } from '../adapters/partner/agreements'
import type { PartnerClient } from '../adapters/partner/partner-client'
import type { PartnerRegistry } from '../adapters/partner/partner-registry'
import type { RateLimiter } from '../adapters/partner/rate-limiter'
import type { MemoryTrustStore } from '../adapters/memory/trust-store'
import type { VerifierDeps } from '../core/verification/verify-credential'
import type { SupervisionSystemStore } from '../core/supervision/supervision-system'
import type { NonceStore } from './middleware/signed-request'
import type { PdfVerifierDeps } from '../core/verification/verify-pdf'

export interface Logger {
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

export interface StatusLists {
  /** The signed status list credential, or undefined for an unknown list. */
  credential(listId: string): Promise<string | undefined>
}

/** Trust anchors an admin adds for PDFs signed outside the region's PKI. */
export interface TrustAnchors {
  list(): Promise<TrustAnchor[]>
  add(certificate: string, label: string | undefined): Promise<{ anchor: TrustAnchor; created: boolean }>
}

/** Which matters of the catalogue this region may accept on behalf of each partner, by active agreement. */
export interface MatterDirectory {
  partnerMatters(at: Date): Array<{ region: { code: string; name: string }; matterCodes: string[] }>
}

/** The partner side of the service: registry, signed calls both ways, scope and rate, the audit of every call. */
export interface PartnerDeps {
  clock: Clock
  registry: PartnerRegistry
  client: PartnerClient
  trust: Pick<MemoryTrustStore, 'findRegionKey' | 'regionKeys'>
  /** Nonce claims the door's record of the call, committed before the answer, may make durable. */
  nonces: { claimNonce(region: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean> }
  /** This region's partner-auth key: signs its requests and answers. */
  signingKey: SigningKey
  /** This region's attestation key: signs verification receipts. */
  attestation: JwsSigner
  scope: PartnerScope
  limiter: RateLimiter
  /** Records a call in the audit log; with the licence uses it made, committed together. */
  record(call: PartnerCallRecord, licenceUses?: LicenceUse[]): Promise<void>
  /** Outbox counts per destination (`partner:<code>`): forwards, requests and events waiting for each partner. */
  deliveries(): Promise<Map<string, OutboxDeliveryCounts>>
}

/** Holders, the banks they show licences to, and consents (docs/holders.md). */
export interface HolderDeps {
  /** Who a holder bearer token speaks for; the bureau's own credentials today, an identity provider later. */
  authenticator: HolderAuthenticator
  credentials: HolderCredentialDeps
  parties: RelyingPartyDeps
  consents: ConsentDeps
  checks: BankCheckDeps
  licencesOf(holderKey: string): Promise<Licence[]>
}

export interface OutboxDeliveryCounts {
  pending: number
  delivered: number
  abandoned: number
  lastError: string | null
  lastDeliveredAt: Date | null
}

/** 审管联动: the registered supervision systems, the nonces of their signed calls, how delivery of their events stands. */
export interface SupervisionDeps {
  systems: SupervisionSystemStore
  nonces: NonceStore
  /** Outbox counts per destination (`supervision:<id>`). */
  deliveries(): Promise<Map<string, OutboxDeliveryCounts>>
}

/** Everything the HTTP app needs, built by a runtime entry (Node or Workers). */
export interface AppDeps {
  region: { code: string; name: string }
  bureau: { name: string; uscc: string }
  publicUrl: string
  adminToken: string
  clock: Clock
  store: Store
  licences: LicenceServiceDeps
  verifier: VerifierDeps
  statusLists: StatusLists
  publication: Publication
  seals: SealServiceDeps
  sealer: PdfSealer
  /** Renders a licence's signed PDF. */
  licenceDocuments: { render(licence: Licence): Promise<Uint8Array>; bureauSealSvg(): Promise<string> }
  pdfVerifier: PdfVerifierDeps
  trustAnchors: TrustAnchors
  matterDirectory: MatterDirectory
  applications: ApplicationServiceDeps
  /** Checks licences collected from a partner (异地领证) with the partner's freshest status, when collected and when handed over. */
  collectedLicences: CollectedLicenceVerifier
  partners: PartnerDeps
  /** Agreements with partners; they make `partners.scope` and the partners' matters in `matterDirectory`. */
  agreements: Agreements
  /** The append-only, hash-chained audit log of partner calls and agreements. */
  audit: AuditLog
  holders: HolderDeps
  /** Every showing of a licence to a bank or a partner, for its holder (GET /v1/holder/uses). */
  licenceUses: LicenceUses
  supervision: SupervisionDeps
  log: Logger
}
