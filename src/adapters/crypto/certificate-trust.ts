import type { CertificateEvidence } from '../../core/verification/verify-pdf'
import { certificateFingerprint, x509 } from './x509'
import { buildChain } from './x509-chain'

/**
 * Whom a PDF signature may chain to: this region's root, its partners' pinned roots, and the trust anchors an admin added
 * (a national root, a commercial or bank CA, or one self-signed certificate trusted as it is).
 * Intermediates come from the region's own CAs and from the certificates the CMS carries; the
 * CMS never supplies a root.
 */
export class CertificateTrust {
  private anchors: x509.X509Certificate[] = []
  private anchorFingerprints = new Set<string>()
  /** Partner regions' roots and CAs, from their pinned trust lists. */
  private partners = new Map<string, { roots: x509.X509Certificate[]; intermediates: x509.X509Certificate[] }>()

  constructor(
    private readonly regionRoots: x509.X509Certificate[],
    private readonly regionIntermediates: x509.X509Certificate[],
  ) {}

  async replaceAnchors(certificates: x509.X509Certificate[]): Promise<void> {
    const fingerprints = new Set(await Promise.all(certificates.map((c) => certificateFingerprint(c))))
    this.anchors = certificates
    this.anchorFingerprints = fingerprints
  }

  replacePartner(regionCode: string, authorities: { roots: x509.X509Certificate[]; intermediates: x509.X509Certificate[] } | undefined): void {
    if (authorities) this.partners.set(regionCode, authorities)
    else this.partners.delete(regionCode)
  }

  async evidence(signerDer: Uint8Array, carried: Uint8Array[]): Promise<CertificateEvidence | undefined> {
    let signer: x509.X509Certificate
    try {
      signer = new x509.X509Certificate(signerDer as Uint8Array<ArrayBuffer>)
    } catch {
      return undefined
    }
    const sha256 = await certificateFingerprint(signer)
    const summary = { subject: signer.subject, issuer: signer.issuer, serialNumber: signer.serialNumber, sha256, notBefore: signer.notBefore, notAfter: signer.notAfter }
    if (this.anchorFingerprints.has(sha256)) {
      // A certificate trusted as it is (e.g. a self-signed enterprise certificate an admin added).
      return { ...summary, chain: { trusted: true, path: [`${signer.subject} (trust anchor)`], windows: [{ subject: signer.subject, notBefore: signer.notBefore, notAfter: signer.notAfter }] } }
    }
    const partners = [...this.partners.values()]
    const intermediates = [...this.regionIntermediates, ...partners.flatMap((p) => p.intermediates)]
    for (const der of carried) {
      try {
        intermediates.push(new x509.X509Certificate(der as Uint8Array<ArrayBuffer>))
      } catch {
        // A certificate the CMS carries that cannot be read simply helps no path.
      }
    }
    return { ...summary, chain: await buildChain(signer, intermediates, [...this.regionRoots, ...partners.flatMap((p) => p.roots), ...this.anchors]) }
  }
}
