import type { IssuerIdentity } from '../core/licence/credential'
import { createJwsSigner } from '../adapters/crypto/jws-signer'
import type { RegionPki } from '../adapters/crypto/pki'
import { createPublication } from '../adapters/crypto/publication'
import { buildTrustListContent, trustedKeysOf, trustedSignersOf } from '../adapters/crypto/trust-list'
import { kidOf } from '../adapters/crypto/jws-signer'
import { createPartnerClient } from '../adapters/partner/partner-client'
import { fetchTransport, type PartnerTransport } from '../adapters/partner/partner-transport'
import { createPartnerRegistry } from '../adapters/partner/partner-registry'
import { combinedStatus, PartnerStatusLists } from '../adapters/partner/partner-status'
import { RateLimiter } from '../adapters/partner/rate-limiter'
import { createPgAuditLog } from '../adapters/postgres/pg-audit-log'
import { createPgPartnerStore } from '../adapters/postgres/pg-partner-store'
import type { PartnerCallRecord } from '../core/partner/scope'
import { createAgreements } from '../adapters/partner/agreements'
import { createPgAgreementStore } from '../adapters/postgres/pg-agreement-store'
import { StatusRegistry } from '../adapters/memory/status-registry'
import { MemoryTrustStore } from '../adapters/memory/trust-store'
import { createPgStore } from '../adapters/postgres/pg-store'
import { migrate } from '../adapters/postgres/migrations'
import type { SqlClient } from '../adapters/postgres/sql-client'
import type { Config } from '../config'
import type { Clock, JwsSigner } from '../core/ports'
import type { AppDeps, Logger, MatterDirectory } from '../http/deps'
import type { ApplicationServiceDeps } from '../core/application/application-service'
import type { Licence } from '../core/licence/licence'
import { importKek } from '../adapters/crypto/key-wrap'
import { createSealMaker } from '../adapters/crypto/seal-maker'
import { CertificateTrust } from '../adapters/crypto/certificate-trust'
import { createTrustAnchorAdmin } from '../adapters/crypto/trust-anchor-admin'
import { certificateFingerprint } from '../adapters/crypto/x509'
import { SealRegistry } from '../adapters/memory/seal-registry'
import { embeddedLicenceQr } from '../adapters/pdf/embedded-licence'
import { createLicenceDocuments } from '../adapters/pdf/licence-document'
import { gatherPdfEvidence } from '../adapters/pdf/pdf-signatures'
import { createPgTrustAnchors } from '../adapters/postgres/pg-trust-anchors'
import { sealPdf } from '../adapters/pdf/seal-pdf-signer'
import { createPgSealStore } from '../adapters/postgres/pg-seal-store'
import type { SealServiceDeps } from '../core/seal/seal-service'
import { createPgHolderStore, licenceUseStatement } from '../adapters/postgres/pg-holder-store'
import { bureauHolderAuthenticator } from '../core/holder/holder-credential'
import { enqueueLicenceStatusEvents } from '../core/holder/status-subscription'
import type { LicenceUse } from '../core/holder/licence-use'
import { bankSender } from '../adapters/outbox/bank-sender'
import type { BackoffPolicy } from '../core/outbox/backoff'
import { ConfigurationError, TongbanError } from '../core/errors'
import { OutboxDispatcher } from '../core/outbox/dispatcher'
import { enqueueSupervisionEvents } from '../core/supervision/supervision-events'
import { registerConfiguredSystems, type RegisterSupervisionRequest } from '../core/supervision/supervision-registry'
import type { StoreTransaction } from '../core/ports'
import type { LicenceChange } from '../core/licence/licence'
import { urlSender } from '../adapters/outbox/http-sender'
import { supervisionSender } from '../adapters/outbox/supervision-sender'
import { partnerSender } from '../adapters/outbox/partner-sender'
import { PARTNER_SCHEME } from '../core/outbox/partner-message'
import { enqueueForward } from '../core/application/forwarding'
import { enqueueEventForAcceptingRegion } from '../core/application/application-events'
import { collectLicence, COLLECTION_SCHEME, type CollectedLicenceVerifier } from '../core/application/collection'
import { partnerLicenceFetcher } from '../adapters/partner/licence-fetch'
import { ATTACHMENT_FETCH_SCHEME, fetchAttachment } from '../core/application/attachment-fetch'
import { partnerAttachmentFetcher } from '../adapters/partner/attachment-fetch'
import { verifyCredential } from '../core/verification/verify-credential'
import { verifyPdf, type PdfVerifierDeps } from '../core/verification/verify-pdf'
import { createPgOutboxStore } from '../adapters/postgres/pg-outbox'
import { createPgSupervisionStore } from '../adapters/postgres/pg-supervision-store'

/** Bits per status list: the Bitstring Status List minimum (16 KiB) for herd privacy. */
export const STATUS_LIST_SIZE = 131_072
/** Years a seal certificate made by the service is valid. */
export const SEAL_VALIDITY_YEARS = 5

export interface RuntimeParts {
  config: Pick<Config, 'publicUrl' | 'region' | 'bureau'> & { adminToken: string }
  db: SqlClient
  pki: RegionPki
  /** The AES-256 key that encrypts seal private keys at rest. */
  sealKek: Uint8Array
  /** The CJK font (TrueType) seals and licence PDFs are drawn with; read when first needed. */
  loadFont: () => Promise<Uint8Array>
  log: Logger
  clock?: Clock
  /** Tests replace the document signer to simulate failures mid-issuance. */
  wrapSigner?: (signer: JwsSigner) => JwsSigner
  /** How partner documents and APIs are reached; tests route it to other in-process apps. */
  fetch?: typeof fetch
  /** How signed partner calls go on the wire: through `fetch` unless the entry has a faster way (Node). */
  partnerTransport?: PartnerTransport
  /** A partner's status list is fetched again when the copy held is older than this. */
  partnerStatusMaxAgeMs?: number
  /** Outbox retry delays; tests shorten them. */
  outboxBackoff?: BackoffPolicy
  /** Supervision systems from the configuration (SUPERVISION_SYSTEMS), registered or updated by name. */
  supervisionSystems?: RegisterSupervisionRequest[]
}

export interface BuiltDeps {
  deps: AppDeps
  statusRegistry: StatusRegistry
  trustStore: MemoryTrustStore
  /**
   * Delivers the outbox. Built here, started by the Node entry (src/runtime/node.ts); more
   * destination schemes are added with `outbox.registerSender`.
   */
  outbox: OutboxDispatcher
}

/** Outbox retries start at 2 s and settle at 5 min (OUTBOX_RETRY_BASE_S, OUTBOX_RETRY_CAP_S). */
export const DEFAULT_OUTBOX_BACKOFF: BackoffPolicy = { baseMs: 2_000, capMs: 300_000 }
/** Messages sent at once per dispatcher round. */
const OUTBOX_BATCH = 16
/** A claimed message falls due again after this if its process died mid-send (a send times out after 10 s). */
const OUTBOX_LEASE_MS = 60_000

/** Partner status lists are fetched again after a minute: a partner's revocation is seen here within about that. */
export const PARTNER_STATUS_MAX_AGE_MS = 60_000

/** Builds the app's dependencies from a database and a PKI; shared by the Node and Workers entries. */
export async function buildDeps(parts: RuntimeParts): Promise<BuiltDeps> {
  const { config, db, pki, log } = parts
  const clock = parts.clock ?? { now: () => new Date() }
  await migrate(db)
  const store = createPgStore(db, () => clock.now())
  const issuer: IssuerIdentity = {
    regionCode: config.region.code,
    regionName: config.region.name,
    name: config.bureau.name,
    uscc: config.bureau.uscc,
    url: config.publicUrl,
  }
  const baseSigner = await createJwsSigner(pki['document-signer'])
  const signer = parts.wrapSigner ? parts.wrapSigner(baseSigner) : baseSigner
  const statusRegistry = new StatusRegistry({ store, signer: baseSigner, issuer, clock })
  await statusRegistry.load()

  const content = await buildTrustListContent(pki, { ...config.region, baseUrl: config.publicUrl }, config.bureau, statusRegistry.baseUrl)
  const trustStore = new MemoryTrustStore()
  trustStore.replaceRegion(config.region.code, await trustedSignersOf(content), await trustedKeysOf(content))
  const publication = await createPublication(pki, content, store, clock)
  await publication.trustList()

  const kek = await importKek(parts.sealKek)
  const sealRegistry = new SealRegistry()
  const sealStore = createPgSealStore(db)
  sealRegistry.replaceAll(await sealStore.listSealStatuses())
  sealRegistry.set(await certificateFingerprint(pki['bureau-seal'].certificate), {
    id: 'bureau',
    name: `${config.bureau.name}行政审批专用章`,
    kind: 'official',
    status: 'active',
    statusReason: null,
  })
  const certificateTrust = new CertificateTrust([pki.root.certificate], [pki['issuing-ca'].certificate, pki['seal-ca'].certificate])
  const trustAnchors = createTrustAnchorAdmin({ anchors: createPgTrustAnchors(db), trust: certificateTrust, clock, newId: () => crypto.randomUUID() })
  await trustAnchors.reload()
  const seals: SealServiceDeps = {
    seals: sealStore,
    maker: createSealMaker({ sealCa: pki['seal-ca'], chainAbove: [pki.root.certificate], kek, loadFont: parts.loadFont }),
    clock,
    newId: () => crypto.randomUUID(),
    validityYears: SEAL_VALIDITY_YEARS,
    onSealChanged: (seal) => sealRegistry.apply(seal),
  }

  const fetcher = parts.fetch ?? ((input, init) => fetch(input, init))
  const attestation = await createJwsSigner(pki['attestation-signer'])
  const supervisionSystems = createPgSupervisionStore(db)
  if (parts.supervisionSystems?.length) {
    await registerConfiguredSystems({ systems: supervisionSystems, clock, newId: () => crypto.randomUUID() }, parts.supervisionSystems).catch((error: unknown) => {
      // A bad key in the configuration stops the start with the variable's name, like any other bad setting.
      throw error instanceof TongbanError ? new ConfigurationError(`SUPERVISION_SYSTEMS: ${error.message}`, { cause: error }) : error
    })
  }
  const holderStore = createPgHolderStore(db)
  const outboxStore = createPgOutboxStore(db)
  const webhook = urlSender(fetcher)
  const outbox = new OutboxDispatcher({
    store: outboxStore,
    senders: { http: webhook, https: webhook, supervision: supervisionSender(supervisionSystems, fetcher), bank: bankSender(holderStore, fetcher) },
    clock,
    backoff: parts.outboxBackoff ?? DEFAULT_OUTBOX_BACKOFF,
    batchSize: OUTBOX_BATCH,
    leaseMs: OUTBOX_LEASE_MS,
    log,
  })
  const supervisionEvents = { signer: attestation, newId: () => crypto.randomUUID(), publicUrl: config.publicUrl, region: config.region }

  const licences = {
    store,
    signer,
    clock,
    issuer,
    regionCode: config.region.code,
    newId: () => crypto.randomUUID(),
    statusListSize: STATUS_LIST_SIZE,
    onLicenceChanged: (licence: Licence) => {
      statusRegistry.apply(licence, STATUS_LIST_SIZE)
      // The change committed with its supervision events: send them now rather than at the next tick.
      outbox.wake()
    },
    onLicenceChange: async (tx: StoreTransaction, change: LicenceChange) => {
      await enqueueSupervisionEvents(supervisionEvents, tx, change)
      await enqueueLicenceStatusEvents(supervisionEvents, tx, change)
    },
  }
  // Partners' matters come from agreements (built below, before any request is served).
  const matterDirectory: MatterDirectory = { partnerMatters: (at) => agreements.partnerMatters(at) }
  const applications: ApplicationServiceDeps = {
    store,
    clock,
    newId: () => crypto.randomUUID(),
    region: config.region,
    licences,
    partnersAccepting: (matterCode, at) => matterDirectory.partnerMatters(at).filter((p) => p.matterCodes.includes(matterCode)).map((p) => p.region),
    // An application accepted here for a partner is forwarded to it, and every step taken here on one a partner accepted goes back to it, through the outbox.
    onStep: async (tx, application, event) => {
      await enqueueForward({ region: config.region, publicUrl: config.publicUrl, attestation }, tx, application, event)
      await enqueueEventForAcceptingRegion({ region: config.region, publicUrl: config.publicUrl, attestation, newId: () => crypto.randomUUID() }, tx, application, event)
    },
    afterStep: () => outbox.wake(),
  }
  const partnerStore = createPgPartnerStore(db)
  const registry = createPartnerRegistry({ store: partnerStore, trust: trustStore, certificates: certificateTrust, fetch: fetcher, clock, ownRegion: config.region.code, log })
  await registry.load()
  const partnerStatus = new PartnerStatusLists({ fetch: fetcher, trust: trustStore, clock, partnerOf: (url) => registry.partnerOfStatusList(url), maxAgeMs: parts.partnerStatusMaxAgeMs ?? PARTNER_STATUS_MAX_AGE_MS })
  const status = combinedStatus(statusRegistry, partnerStatus)
  const partnerAuthKey = pki['partner-auth']
  if (!partnerAuthKey.privateKey) throw new Error('the PKI bundle has no partner-auth private key')
  const signingKey = { keyid: await kidOf(partnerAuthKey.certificate), privateKey: partnerAuthKey.privateKey }
  const audit = createPgAuditLog(db)
  const recordPartnerCall = async (call: PartnerCallRecord, licenceUses: LicenceUse[] = []) => {
    log.info({ partnerCall: call }, `partner call ${call.direction} ${call.method} ${call.path} ${call.status}`)
    // The uses are written by the entry's own statement: one commit for both.
    const statements = licenceUses.flatMap((use) => licenceUseStatement(use) ?? [])
    await audit.appendWith('partner_call', { ...call }, clock.now(), statements)
  }
  const client = createPartnerClient({ registry, trust: trustStore, signingKey, clock, transport: parts.partnerTransport ?? fetchTransport(fetcher), record: recordPartnerCall })
  const verifier = { trust: trustStore, status }
  const pdfVerifier: PdfVerifierDeps = {
    trust: trustStore,
    status,
    gather: gatherPdfEvidence,
    certificate: (signer, carried) => certificateTrust.evidence(signer, carried),
    sealOf: (sha256) => sealRegistry.sealOf(sha256),
    licenceQrAt: embeddedLicenceQr,
  }
  outbox.registerSender(PARTNER_SCHEME, partnerSender(client))
  // A licence collected from a partner is checked against the partner's status list fetched anew,
  // when it is collected and again when it is handed over: either may come right after a revocation there.
  const freshPartnerStatus = combinedStatus(statusRegistry, partnerStatus, 0)
  const collectedLicences: CollectedLicenceVerifier = {
    verifyPdf: (pdf, at) => verifyPdf({ ...pdfVerifier, status: freshPartnerStatus }, pdf, { at }),
    verifyCredential: (credential, at) => verifyCredential({ ...verifier, status: freshPartnerStatus }, credential, { at }),
  }
  outbox.registerSender(COLLECTION_SCHEME, (message) => collectLicence({ store, clock, fetchLicence: partnerLicenceFetcher(client), ...collectedLicences }, message))
  outbox.registerSender(ATTACHMENT_FETCH_SCHEME, (message) => fetchAttachment({ store, clock, fetchAttachment: partnerAttachmentFetcher(client) }, message))
  const agreements = createAgreements({
    store: createPgAgreementStore(db),
    client,
    registry,
    keys: (kid) => {
      const key = trustStore.findRegionKey(kid, 'partner-auth')
      return key ? { region: key.region.code, publicKey: key.publicKey } : undefined
    },
    signingKey,
    region: config.region,
    clock,
    audit: async (detail) => void (await audit.append('agreement', detail, clock.now())),
    log,
  })
  await agreements.load()

  const newId = () => crypto.randomUUID()

  const deps: AppDeps = {
    region: config.region,
    bureau: config.bureau,
    publicUrl: config.publicUrl,
    adminToken: config.adminToken,
    clock,
    store,
    licences,
    verifier,
    statusLists: statusRegistry,
    publication,
    seals,
    sealer: {
      seal: async (seal, pdf, placement, reason) =>
        sealPdf({ pdf, seal, wrappedKey: (await seals.seals.getWrappedSealKey(seal.id)) as string, kek, fontBytes: await parts.loadFont(), placement, now: clock.now(), ...(reason ? { reason } : {}) }),
    },
    licenceDocuments: createLicenceDocuments({
      signer: baseSigner,
      issuer,
      bureauSeal: pki['bureau-seal'],
      chain: [pki['seal-ca'].certificate, pki.root.certificate].map((c) => new Uint8Array(c.rawData)),
      loadFont: parts.loadFont,
    }),
    pdfVerifier,
    trustAnchors,
    matterDirectory,
    applications,
    collectedLicences,
    partners: {
      clock,
      registry,
      client,
      trust: trustStore,
      // The door records every call before it answers: that commit makes the claim durable.
      nonces: partnerStore.claimsFlushedWithTheRecord,
      signingKey,
      attestation,
      scope: agreements.scope,
      limiter: new RateLimiter(),
      record: recordPartnerCall,
      deliveries: () => outboxStore.countsByDestination(`${PARTNER_SCHEME}:`),
    },
    agreements,
    audit,
    holders: {
      authenticator: bureauHolderAuthenticator(holderStore),
      credentials: { credentials: holderStore, clock, newId },
      parties: { parties: holderStore, clock, newId },
      consents: { consents: holderStore, parties: holderStore, licences: store, clock, newId },
      checks: { checks: holderStore.checks, verifier, clock, newId },
      licencesOf: (holderKey) => holderStore.listLicencesOfHolder(holderKey),
    },
    licenceUses: holderStore.uses,
    supervision: {
      systems: supervisionSystems,
      nonces: partnerStore,
      deliveries: () => outboxStore.countsByDestination('supervision:'),
    },
    log,
  }
  return { deps, statusRegistry, trustStore, outbox }
}
