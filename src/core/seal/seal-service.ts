import { sha256Hex } from '../digest'
import { InvalidTransitionError, NotFoundError, ValidationError, type ProblemDetail } from '../errors'
import { assertUscc } from '../licence/uscc'
import type { Clock } from '../ports'
import { ForbiddenError } from '../errors'
import { OPENING_SET, SEAL_KINDS, sealName, type PdfSealer, type Seal, type SealKind, type SealPlacement, type SealUse } from './seal'

export interface MadeSeal {
  seal: Seal
  /** The seal's private key, encrypted under the service's key-encryption key. */
  wrappedKey: string
}

/** Makes the cryptographic parts of a seal: its key (or the enterprise's own), certificate, image and SES_Seal. */
export interface SealMaker {
  make(input: {
    id: string
    kind: SealKind
    owner: { uscc: string; name: string }
    name: string
    validFrom: Date
    validUntil: Date
    pkcs12?: { bytes: Uint8Array; password: string }
  }): Promise<MadeSeal>
}

export interface SealStoreTransaction {
  activeSealKinds(uscc: string): Promise<SealKind[]>
  insertSeal(made: MadeSeal): Promise<void>
  lockSeal(id: string): Promise<Seal | undefined>
  updateSealStatus(id: string, status: Seal['status'], reason: string | null): Promise<void>
  insertSealUse(use: SealUse): Promise<void>
  /** Creates the enterprise's credential unless it has one; true when created. */
  createEnterpriseCredential(uscc: string, name: string, tokenHash: string, at: Date): Promise<boolean>
}

export interface SealStore {
  transaction<T>(work: (tx: SealStoreTransaction) => Promise<T>): Promise<T>
  getSeal(id: string): Promise<Seal | undefined>
  getWrappedSealKey(id: string): Promise<string | undefined>
  listSeals(uscc: string): Promise<Seal[]>
  listSealUses(sealId: string): Promise<SealUse[]>
  enterpriseByTokenHash(tokenHash: string): Promise<{ uscc: string; name: string } | undefined>
  /** Every seal's certificate fingerprint and status, for the in-memory registry PDF verification reads. */
  listSealStatuses(): Promise<Array<{ sha256: string; id: string; name: string; kind: SealKind; status: Seal['status']; statusReason: string | null }>>
}

export interface SealServiceDeps {
  seals: SealStore
  maker: SealMaker
  clock: Clock
  newId: () => string
  /** Years a service-made seal certificate is valid. */
  validityYears: number
  /** Told after a seal was made or revoked, once committed. */
  onSealChanged: (seal: Seal) => void
}

export interface CreateSealsRequest {
  enterpriseName: string
  set?: 'opening'
  kind?: SealKind
  /** The person's name carved on a 法定代表人名章. */
  personName?: string
  pkcs12?: { bytes: Uint8Array; password: string }
}

export interface CreatedSeals {
  seals: Seal[]
  /** The enterprise's credential for using its seals: returned once, when first created, never stored in clear. */
  enterpriseCredential: string | null
}


function newEnterpriseToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `tbe_${btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`
}

function requestedKinds(request: CreateSealsRequest): SealKind[] {
  const problems: ProblemDetail[] = []
  if ((request.set === undefined) === (request.kind === undefined)) problems.push({ pointer: '/kind', message: 'give either kind or "set": "opening"' })
  if (request.kind !== undefined && !SEAL_KINDS.includes(request.kind)) problems.push({ pointer: '/kind', message: `kind is one of ${SEAL_KINDS.join(', ')}` })
  if (request.kind === 'legal_representative' && !request.personName) problems.push({ pointer: '/personName', message: 'a 法定代表人名章 carves the person’s name' })
  if (request.pkcs12 && request.set) problems.push({ pointer: '/pkcs12', message: 'an own key (PKCS#12) makes one seal: give kind, not set' })
  if (problems.length > 0) throw new ValidationError('invalid_seal_request', 'the seal request is not valid', problems)
  return request.set === 'opening' ? [...OPENING_SET] : [request.kind as SealKind]
}

/**
 * Makes one seal, or the three free seals of enterprise opening, in one transaction: all are
 * stored or none. An enterprise holds one active seal of each kind.
 */
export async function createSeals(deps: SealServiceDeps, uscc: string, request: CreateSealsRequest): Promise<CreatedSeals> {
  assertUscc(uscc)
  const kinds = requestedKinds(request)
  const now = deps.clock.now()
  const validUntil = new Date(now)
  validUntil.setUTCFullYear(validUntil.getUTCFullYear() + deps.validityYears)
  const owner = { uscc, name: request.enterpriseName }
  const made: MadeSeal[] = []
  for (const kind of kinds) {
    made.push(
      await deps.maker.make({
        id: deps.newId(),
        kind,
        owner,
        name: sealName(kind, request.enterpriseName, request.personName),
        validFrom: now,
        validUntil,
        ...(request.pkcs12 ? { pkcs12: request.pkcs12 } : {}),
      }),
    )
  }
  const token = newEnterpriseToken()
  const created = await deps.seals.transaction(async (tx) => {
    const active = await tx.activeSealKinds(uscc)
    const clash = kinds.filter((kind) => active.includes(kind))
    if (clash.length > 0) throw new InvalidTransitionError(`the enterprise already has an active ${clash.join(', ')} seal; revoke it first`)
    for (const seal of made) await tx.insertSeal(seal)
    return tx.createEnterpriseCredential(uscc, request.enterpriseName, await sha256Hex(token), now)
  })
  for (const { seal } of made) deps.onSealChanged(seal)
  return { seals: made.map((m) => m.seal), enterpriseCredential: created ? token : null }
}

export async function revokeSeal(deps: SealServiceDeps, id: string, reason: string): Promise<Seal> {
  const revoked = await deps.seals.transaction(async (tx) => {
    const seal = await tx.lockSeal(id)
    if (!seal) throw new NotFoundError('seal_not_found', `no seal ${id}`)
    if (seal.status !== 'active') throw new InvalidTransitionError(`the seal is already ${seal.status}`)
    await tx.updateSealStatus(id, 'revoked', reason)
    return { ...seal, status: 'revoked' as const, statusReason: reason }
  })
  deps.onSealChanged(revoked)
  return revoked
}

/** The enterprise a seal credential belongs to, or undefined. */
export async function enterpriseOf(deps: Pick<SealServiceDeps, 'seals'>, token: string): Promise<{ uscc: string; name: string } | undefined> {
  if (!/^tbe_[A-Za-z0-9_-]{43}$/.test(token)) return undefined
  return deps.seals.enterpriseByTokenHash(await sha256Hex(token))
}


/**
 * An enterprise seals its own PDF: only the seal's owner may use it, only while it is active
 * and valid; every use is recorded with the digests of the document before and after.
 */
export async function useSeal(
  deps: Pick<SealServiceDeps, 'seals' | 'clock'> & { sealer: PdfSealer },
  sealId: string,
  enterprise: { uscc: string },
  pdf: Uint8Array,
  placement: SealPlacement,
  reason?: string,
): Promise<{ pdf: Uint8Array; use: SealUse }> {
  const seal = await deps.seals.getSeal(sealId)
  if (!seal) throw new NotFoundError('seal_not_found', `no seal ${sealId}`)
  if (seal.owner.uscc !== enterprise.uscc) throw new ForbiddenError('only the enterprise that owns a seal may use it')
  const now = deps.clock.now()
  if (seal.status !== 'active') throw new InvalidTransitionError(`the seal is ${seal.status}`)
  if (now < seal.validFrom || now > seal.validUntil) throw new InvalidTransitionError('the seal is outside its validity')
  const sealed = await deps.sealer.seal(seal, pdf, placement, reason)
  const use: SealUse = {
    sealId,
    actor: `uscc:${enterprise.uscc}`,
    purpose: reason ?? 'sign',
    documentSha256: await sha256Hex(pdf),
    signedSha256: await sha256Hex(sealed),
    at: now,
  }
  await deps.seals.transaction(async (tx) => {
    // A seal revoked while the document was being sealed is not used.
    const current = await tx.lockSeal(sealId)
    if (current?.status !== 'active') throw new InvalidTransitionError('the seal was revoked meanwhile')
    await tx.insertSealUse(use)
  })
  return { pdf: sealed, use }
}
