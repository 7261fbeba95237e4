import type { TrustStore } from '../../core/ports'
import type { TrustedSigner } from '../../core/trust/trusted-signer'

/** The signers of every trusted region, by kid, in memory: verification never reads the database. */
export class MemoryTrustStore implements TrustStore {
  private byKid = new Map<string, TrustedSigner>()
  private byRegion = new Map<string, TrustedSigner[]>()

  /** Replaces everything known of one region at once, so a verification sees the old set or the new. */
  replaceRegion(regionCode: string, signers: TrustedSigner[]): void {
    const next = new Map(this.byKid)
    for (const old of this.byRegion.get(regionCode) ?? []) next.delete(old.kid)
    for (const signer of signers) next.set(signer.kid, signer)
    this.byRegion.set(regionCode, signers)
    this.byKid = next
  }

  findSigner(kid: string): TrustedSigner | undefined {
    return this.byKid.get(kid)
  }
}
