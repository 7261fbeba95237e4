/**
 * The verification report, in the manner of ETSI EN 319 102-1 and the EU DSS: an indication,
 * a sub-indication that says why when it is not TOTAL_PASSED, and every check that was made.
 */
export type Indication = 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE'

export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'HASH_FAILURE'
  | 'REVOKED'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'TRY_LATER'

export type CheckResult = 'passed' | 'failed' | 'skipped'

export interface CheckReport {
  name: string
  question: string
  result: CheckResult
  detail: string
}

export interface LicenceSummary {
  id: string | null
  number: string
  version: number
  type: { key: string | null; code: string; name: string }
  holder: unknown
  fields: Record<string, unknown>
  validFrom: string
  validUntil: string
  status: 'active' | 'suspended' | 'revoked' | 'expired' | 'not_yet_valid' | 'unknown'
}

export interface VerificationReport {
  indication: Indication
  subIndication: SubIndication | null
  format: 'jws' | 'qr' | 'pdf'
  policy: { name: string; at: string }
  checks: CheckReport[]
  licence: LicenceSummary | null
  issuer: { regionCode: string; regionName: string; name: string; id: string } | null
  signer: { kid: string; subject: string; issuer: string; serialNumber: string; notBefore: string; notAfter: string; chain: string[] } | null
}

/** One signature of a PDF, judged on its own. */
export interface PdfSignatureReport {
  index: number
  fieldName: string | null
  name: string | null
  reason: string | null
  signingTime: string | null
  signer: { subject: string; issuer: string; serialNumber: string; sha256: string; notBefore: string; notAfter: string; chain: string[] } | null
  /** The seal this signature was made with, when its certificate is one of this region's seals. */
  seal: { id: string; name: string; kind: string; status: string } | null
  indication: Indication
  subIndication: SubIndication | null
  checks: CheckReport[]
}

export interface PdfVerificationReport extends VerificationReport {
  signatures: PdfSignatureReport[]
  /** The report on the licence the PDF carries (its QR payload), when it carries one. */
  embeddedLicence: VerificationReport | null
}
