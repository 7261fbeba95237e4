import { CREDENTIAL_TYP } from '../../core/licence/credential'
import type { Clock, StatusBit, StatusSource, TrustStore } from '../../core/ports'
import { Bitstring } from '../../core/status/bitstring'
import { parseCompactJws, verifyJwsSignature } from '../../core/verification/gather'
import { fetchText } from './fetch-text'

interface HeldList {
  bits: Bitstring
  fetchedAt: number
  validUntil: number
}

const STATUS_LIST_MAX_BYTES = 256 * 1024
/** A failed fetch is not retried for this long, so a partner that is down is not asked on every verification. */
const RETRY_AFTER_FAILURE_MS = 5_000

/**
 * Status lists of partner regions' credentials. A list is fetched only from a base URL named in
 * the partner's pinned trust list (never from wherever a credential points), checked as a
 * status list credential signed by one of that partner's document signers, and kept in memory:
 * refetched when older than `maxAgeMs`, used while inside its own validity when a refetch fails,
 * and unknown (so the verdict is INDETERMINATE / TRY_LATER) when no valid copy is held.
 */
export class PartnerStatusLists {
  private lists = new Map<string, HeldList>()
  private pending = new Map<string, Promise<void>>()
  private failedAt = new Map<string, { at: number; reason: string }>()

  constructor(
    private readonly deps: {
      fetch: typeof fetch
      trust: TrustStore
      clock: Clock
      partnerOf: (url: string) => string | undefined
      maxAgeMs: number
    },
  ) {}

  /** Whether the URL is under a partner's status list base. */
  owns(url: string): boolean {
    return this.deps.partnerOf(url) !== undefined
  }

  /**
   * Fetches the list when it belongs to a partner and the copy held is missing or older than
   * `maxAgeMs` (the configured age unless given; 0 fetches it again); undefined when nothing is to do.
   */
  prepare(url: string, maxAgeMs = this.deps.maxAgeMs): Promise<void> | undefined {
    const region = this.deps.partnerOf(url)
    if (!region) return undefined
    const now = this.deps.clock.now().getTime()
    const held = this.lists.get(url)
    if (held && now - held.fetchedAt < maxAgeMs && now < held.validUntil) return undefined
    const failed = this.failedAt.get(url)
    if (failed && now - failed.at < RETRY_AFTER_FAILURE_MS) return undefined
    let fetching = this.pending.get(url)
    if (!fetching) {
      fetching = this.fetchList(url, region)
        .then(() => void this.failedAt.delete(url))
        .catch((error: unknown) => void this.failedAt.set(url, { at: this.deps.clock.now().getTime(), reason: (error as Error).message }))
        .finally(() => this.pending.delete(url))
      this.pending.set(url, fetching)
    }
    return fetching
  }

  statusBit(url: string, index: number): StatusBit {
    const held = this.lists.get(url)
    const now = this.deps.clock.now().getTime()
    if (!held || now >= held.validUntil) {
      const failed = this.failedAt.get(url)
      return { known: false, reason: failed ? `the partner's status list could not be fetched: ${failed.reason}` : 'the partner’s status list is not held' }
    }
    if (!Number.isInteger(index) || index < 0 || index >= held.bits.size) return { known: false, reason: 'index outside the status list' }
    return { known: true, set: held.bits.get(index) }
  }

  private async fetchList(url: string, region: string): Promise<void> {
    const jws = (await fetchText(this.deps.fetch, url, { accept: 'application/vc+jwt', maxBytes: STATUS_LIST_MAX_BYTES })).trim()
    const parsed = parseCompactJws(jws)
    const kid = parsed.header.kid
    const signer = typeof kid === 'string' ? this.deps.trust.findSigner(kid) : undefined
    if (!signer || signer.region.code !== region) throw new Error(`the status list is not signed by a document signer of ${region}`)
    if (parsed.header.alg !== signer.alg || parsed.header.typ !== CREDENTIAL_TYP || parsed.header.crit !== undefined) throw new Error('the status list header is not ES256 vc+jwt')
    if (!(await verifyJwsSignature(signer, parsed.signingInput, parsed.signature))) throw new Error('the status list signature does not verify')
    const payload = parsed.payload as { id?: unknown; validUntil?: unknown; credentialSubject?: { type?: unknown; encodedList?: unknown } }
    if (payload.id !== url) throw new Error(`the status list says it is ${JSON.stringify(payload.id)}, not ${url}`)
    if (payload.credentialSubject?.type !== 'BitstringStatusList' || typeof payload.credentialSubject.encodedList !== 'string') throw new Error('not a Bitstring Status List credential')
    const validUntil = typeof payload.validUntil === 'string' ? Date.parse(payload.validUntil) : Number.NaN
    const now = this.deps.clock.now().getTime()
    if (!(validUntil > now)) throw new Error('the status list has expired')
    this.lists.set(url, { bits: await Bitstring.decode(payload.credentialSubject.encodedList), fetchedAt: now, validUntil })
  }
}

/**
 * The region's own status lists and its partners', behind the one StatusSource the verifier asks.
 * `partnerMaxAgeMs` overrides the configured age of partners' copies (0: fetch again every time).
 */
export function combinedStatus(own: StatusSource, partners: PartnerStatusLists, partnerMaxAgeMs?: number): StatusSource {
  return {
    prepare: (url) => partners.prepare(url, partnerMaxAgeMs),
    statusBit: (url, index) => (partners.owns(url) ? partners.statusBit(url, index) : own.statusBit(url, index)),
  }
}
