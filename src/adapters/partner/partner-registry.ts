import { NotFoundError, TongbanError, ValidationError } from '../../core/errors'
import { sha256Hex } from '../../core/digest'
import type { Partner } from '../../core/partner/partner'
import type { Clock } from '../../core/ports'
import type { CertificateTrust } from '../crypto/certificate-trust'
import { certificateAuthoritiesOf, trustedKeysOf, trustedSignersOf, TrustListError, verifyTrustList, type TrustList } from '../crypto/trust-list'
import type { MemoryTrustStore } from '../memory/trust-store'
import type { PgPartnerStore } from '../postgres/pg-partner-store'
import { fetchText } from './fetch-text'

export class PartnerPinConflictError extends TongbanError {
  readonly code = 'partner_pin_conflict'
  readonly status = 409
}

export class InvalidPartnerDescriptorError extends TongbanError {
  readonly code = 'invalid_partner_descriptor'
  readonly status = 502
}

export interface PartnerRegistryDeps {
  store: PgPartnerStore
  trust: MemoryTrustStore
  certificates: CertificateTrust
  fetch: typeof fetch
  clock: Clock
  ownRegion: string
  log: { info(object: object, message?: string): void; warn(object: object, message?: string): void }
}

export type RefreshOutcome = 'updated' | 'unchanged'

interface Held {
  partner: Partner
  list: TrustList
}

const TRUST_LIST_MAX_BYTES = 512 * 1024
const DESCRIPTOR_MAX_BYTES = 64 * 1024

interface Descriptor {
  code: string
  name: string
  trustListUrl: string
}

function readDescriptor(text: string): Descriptor {
  let value: { region?: { code?: unknown; name?: unknown }; endpoints?: { trustList?: unknown } }
  try {
    value = JSON.parse(text) as typeof value
  } catch {
    throw new InvalidPartnerDescriptorError('the descriptor is not JSON')
  }
  const code = value?.region?.code
  const name = value?.region?.name
  const trustListUrl = value?.endpoints?.trustList
  if (typeof code !== 'string' || !/^\d{6}$/.test(code) || typeof name !== 'string' || typeof trustListUrl !== 'string' || !/^https?:\/\//.test(trustListUrl) || !URL.canParse(trustListUrl)) {
    throw new InvalidPartnerDescriptorError('the descriptor lacks region.code (six digits), region.name or an http(s) endpoints.trustList')
  }
  return { code, name, trustListUrl }
}

/**
 * The partner regions this region trusts. A partner is registered by its descriptor URL and the
 * fingerprint of its root, exchanged out of band; its trust list must chain to that pin. The
 * last good list is kept in the database and in memory: a list that is older, of the same
 * sequence with other content, expired or badly signed never replaces it, and the refusal is
 * recorded on the partner (the admin API shows it) and logged. Later lists are fetched from the
 * base URL the signed list names, never from the unsigned descriptor.
 */
export function createPartnerRegistry(deps: PartnerRegistryDeps) {
  const held = new Map<string, Held>()
  let statusBases: Array<[string, string]> = []

  async function apply(partner: Partner, list: TrustList): Promise<void> {
    deps.trust.replaceRegion(partner.code, await trustedSignersOf(list), await trustedKeysOf(list))
    deps.certificates.replacePartner(partner.code, certificateAuthoritiesOf(list))
    held.set(partner.code, { partner, list })
    statusBases = [...held.values()].map((h) => [h.list.statusListBase, h.partner.code])
  }

  function forget(code: string): void {
    deps.trust.removeRegion(code)
    deps.certificates.replacePartner(code, undefined)
    held.delete(code)
    statusBases = [...held.values()].map((h) => [h.list.statusListBase, h.partner.code])
  }

  async function fetchList(url: string, pin: string): Promise<{ jws: string; list: TrustList }> {
    const jws = (await fetchText(deps.fetch, url, { accept: 'application/jwt', maxBytes: TRUST_LIST_MAX_BYTES })).trim()
    return { jws, list: await verifyTrustList(jws, pin, deps.clock.now()) }
  }

  function trustListOf(jws: string, list: TrustList, hash: string): Partner['trustList'] {
    return { jws, sequence: list.sequence, hash, validUntil: new Date(list.validUntil) }
  }

  async function refresh(code: string): Promise<{ partner: Partner; outcome: RefreshOutcome }> {
    const partner = await deps.store.get(code)
    if (!partner) throw new NotFoundError('partner_not_found', `no partner region ${code} is registered`)
    const now = deps.clock.now()
    try {
      const { jws, list } = await fetchList(`${partner.baseUrl}/v1/trust-list`, partner.rootSha256)
      if (list.region.code !== code) throw new TrustListError(`the list is region ${list.region.code}'s, not ${code}'s`)
      const hash = await sha256Hex(jws)
      if (list.sequence < partner.trustList.sequence) throw new TrustListError(`the list has sequence ${list.sequence}, older than the ${partner.trustList.sequence} already held`)
      if (list.sequence === partner.trustList.sequence) {
        if (hash !== partner.trustList.hash) throw new TrustListError(`the list has sequence ${list.sequence}, the one already held, with other content`)
        await deps.store.recordAttempt(code, now, null)
        const current = { ...partner, lastAttemptAt: now, lastProblem: null }
        if (!held.has(code)) await apply(current, list)
        else held.set(code, { partner: current, list })
        return { partner: current, outcome: 'unchanged' }
      }
      const update = { name: list.region.name, baseUrl: list.region.baseUrl.replace(/\/+$/, ''), trustList: trustListOf(jws, list, hash), at: now }
      if (!(await deps.store.saveTrustList(code, update))) {
        // Another process saved a newer list first: take what the database holds.
        await loadOne(code)
        return { partner: held.get(code)?.partner ?? partner, outcome: 'unchanged' }
      }
      const updated: Partner = { ...partner, ...update, refreshedAt: now, lastAttemptAt: now, lastProblem: null }
      await apply(updated, list)
      deps.log.info({ partner: code, sequence: list.sequence }, 'partner trust list updated')
      return { partner: updated, outcome: 'updated' }
    } catch (error) {
      const problem = (error as Error).message
      await deps.store.recordAttempt(code, now, problem)
      const kept = held.get(code)
      if (kept) held.set(code, { ...kept, partner: { ...kept.partner, lastAttemptAt: now, lastProblem: problem } })
      deps.log.warn({ partner: code, problem }, 'partner trust list refused; the last good list is kept')
      throw error
    }
  }

  async function loadOne(code: string): Promise<void> {
    const partner = await deps.store.get(code)
    if (!partner) return
    try {
      await apply(partner, await verifyTrustList(partner.trustList.jws, partner.rootSha256, deps.clock.now()))
    } catch (error) {
      forget(code)
      deps.log.warn({ partner: code, problem: (error as Error).message }, 'the stored trust list of a partner is no longer valid; its credentials and calls are not trusted until a refresh succeeds')
    }
  }

  return {
    /** Loads the partners saved in the database, re-checking each stored list. */
    async load(): Promise<void> {
      for (const partner of await deps.store.list()) await loadOne(partner.code)
    },

    async register(descriptorUrl: string, rootFingerprint: string): Promise<{ partner: Partner; created: boolean }> {
      const pin = rootFingerprint.toLowerCase()
      const descriptor = readDescriptor(await fetchText(deps.fetch, descriptorUrl, { accept: 'application/json', maxBytes: DESCRIPTOR_MAX_BYTES }))
      if (descriptor.code === deps.ownRegion) throw new ValidationError('partner_is_self', `${descriptorUrl} describes this region (${deps.ownRegion}) itself`)
      const existing = await deps.store.get(descriptor.code)
      if (existing) {
        if (existing.rootSha256 !== pin) {
          throw new PartnerPinConflictError(`region ${descriptor.code} is registered with another root fingerprint; a re-keyed root must be agreed out of band and the partner registered anew`)
        }
        return { partner: (await refresh(descriptor.code)).partner, created: false }
      }
      const { jws, list } = await fetchList(descriptor.trustListUrl, pin)
      if (list.region.code !== descriptor.code) throw new TrustListError(`the descriptor names region ${descriptor.code} but its trust list is region ${list.region.code}'s`)
      const now = deps.clock.now()
      const partner: Partner = {
        code: list.region.code,
        name: list.region.name,
        descriptorUrl,
        rootSha256: pin,
        baseUrl: list.region.baseUrl.replace(/\/+$/, ''),
        trustList: trustListOf(jws, list, await sha256Hex(jws)),
        registeredAt: now,
        refreshedAt: now,
        lastAttemptAt: now,
        lastProblem: null,
      }
      if (!(await deps.store.insert(partner))) return { partner: (await refresh(partner.code)).partner, created: false }
      await apply(partner, list)
      deps.log.info({ partner: partner.code, sequence: list.sequence }, 'partner registered')
      return { partner, created: true }
    },

    refresh,

    /** Refreshes every partner whose list is older than `maxAgeMs` or close to expiry; failures are recorded, not thrown. */
    async refreshDue(maxAgeMs: number): Promise<void> {
      const now = deps.clock.now().getTime()
      for (const partner of await deps.store.list()) {
        const expiresSoon = partner.trustList.validUntil.getTime() - now < 24 * 3600_000
        if (now - partner.lastAttemptAt.getTime() < maxAgeMs && !expiresSoon) continue
        await refresh(partner.code).catch(() => undefined)
        const current = held.get(partner.code)
        if (current && new Date(current.list.validUntil).getTime() <= deps.clock.now().getTime()) {
          forget(partner.code)
          deps.log.warn({ partner: partner.code }, 'a partner trust list expired without a newer one; its credentials and calls are not trusted until a refresh succeeds')
        }
      }
    },

    list: () => deps.store.list(),

    /** The partner with a current trust list, from memory; undefined when unknown or its list expired. */
    trusted(code: string): Partner | undefined {
      const entry = held.get(code)
      if (!entry || new Date(entry.list.validUntil) <= deps.clock.now()) return undefined
      return entry.partner
    },

    /** The partner whose trust list names this status list base, for status lists of its credentials. */
    partnerOfStatusList(url: string): string | undefined {
      for (const [base, code] of statusBases) if (url.startsWith(base)) return code
      return undefined
    },
  }
}

export type PartnerRegistry = ReturnType<typeof createPartnerRegistry>
