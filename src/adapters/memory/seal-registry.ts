import type { Seal } from '../../core/seal/seal'

export interface SealStatusEntry {
  id: string
  name: string
  kind: string
  status: 'active' | 'revoked'
  statusReason: string | null
}

/** This region's seals by certificate fingerprint, in memory, so PDF verification never waits on the database. */
export class SealRegistry {
  private bySha256 = new Map<string, SealStatusEntry>()

  replaceAll(entries: Array<SealStatusEntry & { sha256: string }>): void {
    this.bySha256 = new Map(entries.map(({ sha256, ...entry }) => [sha256, entry]))
  }

  apply(seal: Seal): void {
    this.bySha256.set(seal.certificateSha256, { id: seal.id, name: seal.name, kind: seal.kind, status: seal.status, statusReason: seal.statusReason })
  }

  set(sha256: string, entry: SealStatusEntry): void {
    this.bySha256.set(sha256, entry)
  }

  sealOf(sha256: string): SealStatusEntry | undefined {
    return this.bySha256.get(sha256)
  }
}
