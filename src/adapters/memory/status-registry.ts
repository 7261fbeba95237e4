import { CREDENTIAL_TYP, statusListUrl, type IssuerIdentity } from '../../core/licence/credential'
import type { Licence } from '../../core/licence/licence'
import type { Clock, JwsSigner, StatusBit, StatusSource, Store } from '../../core/ports'
import { Bitstring } from '../../core/status/bitstring'
import { buildStatusListCredential } from '../../core/status/status-list-credential'

interface HeldList {
  purpose: 'revocation' | 'suspension'
  bits: Bitstring
  signed: { jws: string; refreshAfter: number } | undefined
}

const STATUS_TTL_SECONDS = 300

/**
 * The region's own status lists, held in memory so that verification never waits on the
 * database. Writes go to the database first; this copy is told of each committed change, and
 * reloads from the database when other processes may have written (PostgreSQL deployments).
 */
export class StatusRegistry implements StatusSource {
  private lists = new Map<string, HeldList>()
  private loadedAt = 0
  private loading: Promise<void> | undefined

  constructor(
    private readonly deps: { store: Store; signer: JwsSigner; issuer: IssuerIdentity; clock: Clock },
  ) {}

  get baseUrl(): string {
    return statusListUrl(this.deps.issuer.url, '')
  }

  async load(): Promise<void> {
    const fresh = new Map<string, HeldList>()
    for (const list of await this.deps.store.listStatusLists()) {
      const bits = new Bitstring(list.size)
      for (const index of await this.deps.store.setStatusIndices(list.id)) bits.set(index, true)
      fresh.set(list.id, { purpose: list.purpose, bits, signed: undefined })
    }
    this.lists = fresh
    this.loadedAt = Date.now()
  }

  /** Reloads when the copy is older than `maxAgeMs`; concurrent callers share one reload. */
  refreshIfOlderThan(maxAgeMs: number): Promise<void> {
    if (Date.now() - this.loadedAt < maxAgeMs) return Promise.resolve()
    this.loading ??= this.load().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  /** Mirrors a committed licence write: new lists appear, bits follow the licence's status. */
  apply(licence: Licence, listSize: number): void {
    for (const entry of licence.statusEntries) {
      let list = this.lists.get(entry.listId)
      if (!list) {
        list = { purpose: entry.purpose, bits: new Bitstring(listSize), signed: undefined }
        this.lists.set(entry.listId, list)
      }
      const set = entry.purpose === 'revocation' ? licence.status === 'revoked' || licence.status === 'superseded' : licence.status === 'suspended'
      if (list.bits.get(entry.index) !== set) {
        list.bits.set(entry.index, set)
        list.signed = undefined
      }
    }
  }

  statusBit(statusListCredential: string, index: number): StatusBit {
    if (!statusListCredential.startsWith(this.baseUrl)) return { known: false, reason: 'not a status list of this region' }
    const list = this.lists.get(statusListCredential.slice(this.baseUrl.length))
    if (!list) return { known: false, reason: 'no such status list' }
    if (index >= list.bits.size) return { known: false, reason: 'index outside the status list' }
    return { known: true, set: list.bits.get(index) }
  }

  has(listId: string): boolean {
    return this.lists.has(listId)
  }

  /** The signed status list credential, re-signed when a bit changed or half its lifetime passed. */
  async credential(listId: string): Promise<string | undefined> {
    const list = this.lists.get(listId)
    if (!list) return undefined
    const now = this.deps.clock.now()
    if (!list.signed || now.getTime() > list.signed.refreshAfter) {
      const payload = buildStatusListCredential({
        url: statusListUrl(this.deps.issuer.url, listId),
        purpose: list.purpose,
        encodedList: await list.bits.encode(),
        issuer: this.deps.issuer,
        now,
        ttlSeconds: STATUS_TTL_SECONDS,
      })
      list.signed = { jws: await this.deps.signer.sign(payload, { typ: CREDENTIAL_TYP }), refreshAfter: now.getTime() + (STATUS_TTL_SECONDS * 1000) / 2 }
    }
    return list.signed.jws
  }
}
