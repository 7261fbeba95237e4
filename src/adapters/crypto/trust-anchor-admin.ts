import { ValidationError } from '../../core/errors'
import type { Clock, TrustAnchor } from '../../core/ports'
import type { PgTrustAnchors } from '../postgres/pg-trust-anchors'
import type { CertificateTrust } from './certificate-trust'
import { certificateFingerprint, fromBase64, toBase64, x509 } from './x509'

function parseCertificate(text: string): x509.X509Certificate {
  const pem = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text)
  const base64 = (pem ? (pem[1] as string) : text).replace(/\s+/g, '')
  try {
    if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) throw new Error('not base64')
    return new x509.X509Certificate(fromBase64(base64))
  } catch {
    throw new ValidationError('invalid_certificate', 'certificate must be a PEM certificate or base64 DER', [{ pointer: '/certificate', message: 'not an X.509 certificate' }])
  }
}

/**
 * Trust anchors for PDFs signed outside the region's PKI. A CA certificate lets every
 * certificate it issued chain to it; any other certificate is trusted as it is. Either way its
 * signatures then pass the same checks as the region's own.
 */
export function createTrustAnchorAdmin(deps: { anchors: PgTrustAnchors; trust: CertificateTrust; clock: Clock; newId: () => string }) {
  async function reload(): Promise<TrustAnchor[]> {
    const all = await deps.anchors.list()
    await deps.trust.replaceAnchors(all.map((a) => new x509.X509Certificate(fromBase64(a.certificate))))
    return all
  }
  return {
    reload,
    list: () => deps.anchors.list(),
    async add(text: string, label: string | undefined): Promise<{ anchor: TrustAnchor; created: boolean }> {
      const certificate = parseCertificate(text)
      const now = deps.clock.now()
      if (now > certificate.notAfter || now < certificate.notBefore) {
        throw new ValidationError('certificate_not_valid_now', `the certificate is valid from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`, [{ pointer: '/certificate', message: 'outside its validity' }])
      }
      const result = await deps.anchors.add({
        id: deps.newId(),
        sha256: await certificateFingerprint(certificate),
        subject: certificate.subject,
        label: label ?? null,
        certificate: toBase64(certificate.rawData),
        createdAt: now,
      })
      await reload()
      return result
    },
  }
}

export type TrustAnchorAdmin = ReturnType<typeof createTrustAnchorAdmin>
