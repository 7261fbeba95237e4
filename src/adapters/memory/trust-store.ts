import type { TrustStore } from '../../core/ports'
import type { TrustedSigner } from '../../core/trust/trusted-signer'
import type { TrustedRegionKey } from '../crypto/trust-list'

/**
 * What every trusted region's trust list says, in memory, by kid: document signers for
 * credentials, and partner-auth and attestation keys for partner calls, agreements and receipts.
 * Verification never reads the database.
 */
export class MemoryTrustStore implements TrustStore {
  private byKid = new Map<string, TrustedSigner>()
  private byRegion = new Map<string, TrustedSigner[]>()
  private keysByKid = new Map<string, TrustedRegionKey>()
  private keysByRegion = new Map<string, TrustedRegionKey[]>()

  /** Replaces everything known of one region at once, so a verification sees the old set or the new. */
  replaceRegion(regionCode: string, signers: TrustedSigner[], keys: TrustedRegionKey[] = []): void {
    const next = new Map(this.byKid)
    for (const old of this.byRegion.get(regionCode) ?? []) next.delete(old.kid)
    for (const signer of signers) next.set(signer.kid, signer)
    this.byRegion.set(regionCode, signers)
    this.byKid = next
    const nextKeys = new Map(this.keysByKid)
    for (const old of this.keysByRegion.get(regionCode) ?? []) nextKeys.delete(old.kid)
    for (const key of keys) nextKeys.set(key.kid, key)
    this.keysByRegion.set(regionCode, keys)
    this.keysByKid = nextKeys
  }

  /** Forgets a region: its credentials and calls are no longer trusted. */
  removeRegion(regionCode: string): void {
    this.replaceRegion(regionCode, [], [])
    this.byRegion.delete(regionCode)
    this.keysByRegion.delete(regionCode)
  }

  findSigner(kid: string): TrustedSigner | undefined {
    return this.byKid.get(kid)
  }

  /** A region's key of the given role by kid, or undefined (unknown kid, or a key of another role). */
  findRegionKey(kid: string, role: TrustedRegionKey['role']): TrustedRegionKey | undefined {
    const key = this.keysByKid.get(kid)
    return key?.role === role ? key : undefined
  }

  /** The keys of one region in one role (e.g. to check an agreement signature by region). */
  regionKeys(regionCode: string, role: TrustedRegionKey['role']): TrustedRegionKey[] {
    return (this.keysByRegion.get(regionCode) ?? []).filter((key) => key.role === role)
  }
}
