import type { ChainEvidence } from '../trust/trusted-signer'
import { jwsOfQrText } from '../licence/qr-payload'
import * as pdf from './pdf-checks'
import type { PdfCheckOutcome, PdfEvidence, PdfSignatureEvidence } from './pdf-checks'
import type { CheckReport, Indication, PdfSignatureReport, PdfVerificationReport, SubIndication, VerificationReport } from './report'
import { verifyCredential, type VerifierDeps } from './verify-credential'

/** The signer of a PDF signature and the evidence of its chain to a trusted root. */
export interface CertificateEvidence {
  subject: string
  issuer: string
  serialNumber: string
  sha256: string
  notBefore: Date
  notAfter: Date
  chain: ChainEvidence
}

export interface PdfVerifierDeps extends VerifierDeps {
  gather(pdf: Uint8Array): Promise<PdfEvidence>
  /** Chains a signer certificate (DER) to the region's roots and the trust anchors, helped by the certificates the CMS carries. */
  certificate(signer: Uint8Array, certificates: Uint8Array[]): Promise<CertificateEvidence | undefined>
  /** This region's seal with that certificate (SHA-256), if any. */
  sealOf(sha256: string): { id: string; name: string; kind: string; status: 'active' | 'revoked'; statusReason: string | null } | undefined
  /** The QR text of the licence in the revision ending at `revisionEnd`, if it carries one. */
  licenceQrAt(pdf: Uint8Array, revisionEnd: number): string | null
}

type Failure = { indication: Exclude<Indication, 'TOTAL_PASSED'>; subIndication: SubIndication }
const failed = (subIndication: SubIndication): Failure => ({ indication: 'TOTAL_FAILED', subIndication })
const indeterminate = (subIndication: SubIndication): Failure => ({ indication: 'INDETERMINATE', subIndication })

/** What each PDF signature check's failure means, in order of precedence. */
const SIGNATURE_RULES: Array<{ name: string; question: string; onFailure: Failure }> = [
  { name: 'byte-range-well-formed', question: 'Is /ByteRange [0 a b c] with one gap?', onFailure: failed('FORMAT_FAILURE') },
  { name: 'byte-range-covers-revision', question: 'Does the signature cover a whole revision of the file?', onFailure: failed('FORMAT_FAILURE') },
  { name: 'contents-is-own-gap', question: "Is the one gap exactly this signature's own /Contents?", onFailure: failed('FORMAT_FAILURE') },
  { name: 'sub-filter-pades', question: 'Is it a PAdES signature (ETSI.CAdES.detached)?', onFailure: failed('FORMAT_FAILURE') },
  { name: 'cms-well-formed', question: 'Is /Contents a detached CMS SignedData with its signer certificate?', onFailure: failed('FORMAT_FAILURE') },
  { name: 'digest-matches', question: 'Does the signed message digest match the covered bytes?', onFailure: failed('HASH_FAILURE') },
  { name: 'cms-signature-valid', question: "Does the CMS signature verify with the signer's key?", onFailure: failed('SIG_CRYPTO_FAILURE') },
  { name: 'no-unallowed-changes-after-signature', question: 'Is everything added after this signature on the allow-list (later signatures, validation data)?', onFailure: failed('FORMAT_FAILURE') },
  { name: 'seal-not-revoked', question: 'Is the seal (or signing certificate) not revoked?', onFailure: failed('REVOKED') },
  { name: 'digest-algorithm-strong', question: 'Is the digest algorithm SHA-256 or stronger?', onFailure: indeterminate('CRYPTO_CONSTRAINTS_FAILURE') },
  { name: 'signing-certificate-matches', question: 'Does the signed ESS signing-certificate name the certificate that signed?', onFailure: indeterminate('NO_SIGNING_CERTIFICATE_FOUND') },
  { name: 'no-signing-time-attribute', question: 'Is the claimed time only in /M, as PAdES requires?', onFailure: indeterminate('SIG_CONSTRAINTS_FAILURE') },
  { name: 'certificate-chain', question: 'Does the signer chain to this region’s root or a trust anchor?', onFailure: indeterminate('NO_CERTIFICATE_CHAIN_FOUND') },
  { name: 'certificates-valid-at-signing', question: 'Were the signer and its CAs valid at the claimed signing time?', onFailure: indeterminate('OUT_OF_BOUNDS_NO_POE') },
]

const RANK: Record<Indication, number> = { TOTAL_PASSED: 0, INDETERMINATE: 1, TOTAL_FAILED: 2 }

function worst(results: Array<{ indication: Indication; subIndication: SubIndication | null }>) {
  return results.reduce((a, b) => (RANK[b.indication] > RANK[a.indication] ? b : a), { indication: 'TOTAL_PASSED' as Indication, subIndication: null as SubIndication | null })
}

function trustOutcomes(s: PdfSignatureEvidence, signer: CertificateEvidence | undefined, seal: ReturnType<PdfVerifierDeps['sealOf']>): Array<PdfCheckOutcome | CheckReport> {
  if (!signer) return [{ name: 'certificate-chain', passed: false, detail: 'the signer certificate cannot be read' }]
  const at = s.signingTime ? new Date(s.signingTime) : undefined
  const outside = at ? signer.chain.windows.find((w) => at < w.notBefore || at > w.notAfter) : undefined
  return [
    seal
      ? { name: 'seal-not-revoked', passed: seal.status === 'active', detail: seal.status === 'active' ? `${seal.name} is active` : `${seal.name} was revoked: ${seal.statusReason ?? ''}` }
      : { name: 'seal-not-revoked', question: '', result: 'skipped', detail: 'not a seal of this region: no revocation source for this certificate' },
    { name: 'certificate-chain', passed: signer.chain.trusted, detail: signer.chain.trusted ? signer.chain.path.join(' → ') : (signer.chain.problem ?? 'no path to a trusted root') },
    !at
      ? { name: 'certificates-valid-at-signing', passed: false, detail: 'the signature claims no signing time (/M)' }
      : { name: 'certificates-valid-at-signing', passed: !outside, detail: outside ? `${outside.subject} was not valid at ${at.toISOString()}` : `every certificate on the path was valid at ${at.toISOString()} (the time the signer claims; no timestamp)` },
  ]
}

async function judgeSignature(deps: PdfVerifierDeps, s: PdfSignatureEvidence): Promise<PdfSignatureReport> {
  const cms = s.cms
  const signer = cms?.signerCertificate ? await deps.certificate(cms.signerCertificate, cms.certificates) : undefined
  const seal = signer ? deps.sealOf(signer.sha256) : undefined
  const structural = pdf.PDF_SIGNATURE_CHECKS.map((check) => check(s))
  // Trust is only asked of a signature whose bytes and CMS hold.
  const cryptoHolds = structural.every((o) => o.passed || o.name === 'no-unallowed-changes-after-signature' || o.name === 'digest-algorithm-strong' || o.name === 'no-signing-time-attribute')
  const outcomes = new Map<string, PdfCheckOutcome | CheckReport>(structural.map((o) => [o.name, o]))
  if (cryptoHolds) for (const o of trustOutcomes(s, signer, seal)) outcomes.set(o.name, o)
  let decided: Failure | undefined
  const checks: CheckReport[] = SIGNATURE_RULES.map((rule) => {
    const o = outcomes.get(rule.name)
    if (!o) return { name: rule.name, question: rule.question, result: 'skipped', detail: 'needs the signature to hold first' }
    if ('result' in o) return { ...o, question: rule.question }
    if (!o.passed) decided ??= rule.onFailure
    return { name: rule.name, question: rule.question, result: o.passed ? 'passed' : 'failed', detail: o.detail }
  })
  return {
    index: s.index,
    fieldName: s.fieldName,
    name: s.name,
    reason: s.reason,
    signingTime: s.signingTime,
    signer: signer
      ? { subject: signer.subject, issuer: signer.issuer, serialNumber: signer.serialNumber, sha256: signer.sha256, notBefore: signer.notBefore.toISOString(), notAfter: signer.notAfter.toISOString(), chain: signer.chain.path }
      : null,
    seal: seal ? { id: seal.id, name: seal.name, kind: seal.kind, status: seal.status } : null,
    indication: decided?.indication ?? 'TOTAL_PASSED',
    subIndication: decided?.subIndication ?? null,
    checks,
  }
}

export const PDF_POLICY_NAME = 'tongban-pdf-v1'

/**
 * Verifies every signature of a PDF and the licence it carries: the file is as good as its
 * worst signature, and a licence PDF is also as good as its licence (status included). A file
 * with no signature is TOTAL_FAILED: nothing vouches for it.
 */
export async function verifyPdf(deps: PdfVerifierDeps, bytes: Uint8Array, options: { at: Date }): Promise<PdfVerificationReport> {
  const evidence = await deps.gather(bytes)
  const file = [pdf.pdfIsWellFormed(evidence), pdf.pdfIsSigned(evidence)]
  const fileChecks: CheckReport[] = [
    { name: file[0]!.name, question: 'Can the PDF’s revisions and cross-references be read?', result: file[0]!.passed ? 'passed' : 'failed', detail: file[0]!.detail },
    { name: file[1]!.name, question: 'Does the PDF carry a signature?', result: file[0]!.passed ? (file[1]!.passed ? 'passed' : 'failed') : 'skipped', detail: file[1]!.detail },
  ]
  const signatures = file[0]!.passed ? await Promise.all(evidence.signatures.map((s) => judgeSignature(deps, s))) : []
  // The licence is read from the revision the earliest signature covers.
  const first = evidence.signatures.find((s) => s.revisionEnd !== null)
  const qr = first?.revisionEnd ? deps.licenceQrAt(bytes, first.revisionEnd) : null
  const embeddedLicence: VerificationReport | null = qr ? await verifyCredential(deps, jwsOfQrText(qr), { at: options.at, format: 'qr' }) : null
  if (qr) fileChecks.push({ name: 'embedded-licence', question: 'Is the licence the PDF carries (its QR payload) valid?', result: embeddedLicence?.indication === 'TOTAL_PASSED' ? 'passed' : 'failed', detail: `${embeddedLicence?.indication} ${embeddedLicence?.subIndication ?? ''}`.trim() })
  const fileFailure = !file[0]!.passed || !file[1]!.passed ? [{ indication: 'TOTAL_FAILED' as Indication, subIndication: 'FORMAT_FAILURE' as SubIndication }] : []
  const overall = worst([...fileFailure, ...signatures, ...(embeddedLicence ? [embeddedLicence] : [])])
  return {
    indication: overall.indication,
    subIndication: overall.subIndication,
    format: 'pdf',
    policy: { name: PDF_POLICY_NAME, at: options.at.toISOString() },
    checks: fileChecks,
    licence: embeddedLicence?.licence ?? null,
    issuer: embeddedLicence?.issuer ?? null,
    signer: embeddedLicence?.signer ?? null,
    signatures,
    embeddedLicence,
  }
}
