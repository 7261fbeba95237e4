/**
 * Evidence about a signed PDF, and the checks that judge it. The evidence is gathered by the PDF
 * adapter (src/adapters/pdf/pdf-signatures.ts) and holds facts only; each check below answers one
 * question about it and never computes anything cryptographic. Check names are kebab-case, like
 * the other verification checks. Trust (does the signer chain to a trusted root, at which time)
 * is judged by the caller from `cms.signerCertificate` and `cms.certificates`.
 */

/** What the CMS SignedData inside one PDF signature says, and whether it holds. */
export interface CmsEvidence {
  /** A SignedData with one SignerInfo could be parsed. */
  parsed: boolean
  /** Why something could not be established, when it could not. */
  problem: string | null
  /** DER of the certificate the SignerInfo names. */
  signerCertificate: Uint8Array | null
  /** DER of every certificate in the SignedData, the signer's included. */
  certificates: Uint8Array[]
  /** 'SHA-256', … or the OID when unknown. */
  digestAlgorithm: string | null
  /** e.g. 'ECDSA with SHA-256', 'RSASSA-PKCS1-v1_5 with SHA-256', or the OID when unknown. */
  signatureAlgorithm: string | null
  encapsulatedContentType: string | null
  /** No content inside the CMS (it signs the PDF byte ranges). */
  detached: boolean
  /** OIDs of the signed attributes, in order. */
  signedAttributes: string[]
  /** The message-digest attribute equals the digest of the covered bytes (of the TSTInfo, for a timestamp token). */
  messageDigestMatches: boolean
  /** The signature over the signed attributes verifies with the signer certificate's key (WebCrypto). */
  signatureValid: boolean
  /** ESS signing-certificate(-v2) versus the signer certificate. */
  signingCertificate: 'match' | 'mismatch' | 'absent'
  hasSigningTimeAttribute: boolean
  /** For an RFC 3161 timestamp token (document timestamp): its TSTInfo; null for signatures. */
  timestamp: { genTime: string | null; imprintMatches: boolean; imprintAlgorithm: string } | null
}

/** One object an incremental update added, changed or removed, and whether the allow-list permits it. */
export interface PdfObjectChange {
  /** Object number, or null for changes not tied to one object (trailer, unparsed bytes). */
  object: number | null
  /** What it is: 'signature field', 'page content stream', 'FreeText annotation', … */
  what: string
  allowed: boolean
  detail: string
}

/** One incremental update (every revision after the first), classified. */
export interface PdfUpdate {
  /** Offset where the update's bytes start (the previous revision's end). */
  start: number
  /** Offset just after this revision's %%EOF line. */
  end: number
  /** What the update does: 'signature', 'doc-timestamp', 'dss', 'metadata', 'no-op', 'modification'. */
  kinds: string[]
  changes: PdfObjectChange[]
  /** Signature widgets the update added, with where they are drawn (zero-based page; a visible one can cover content). */
  signatureWidgets: { field: string | null; page: number | null; rect: number[] | null }[]
}

export interface PdfSignatureEvidence {
  /** Position among the document's signature fields. */
  index: number
  fieldName: string | null
  /** /Type of the signature dictionary: 'Sig' or 'DocTimeStamp'. */
  type: string | null
  filter: string | null
  subFilter: string | null
  /** /ByteRange as written, when it is an array of numbers. */
  byteRange: number[] | null
  /** File offsets of this signature dictionary's own /Contents hex string, delimiters included. */
  contents: { start: number; end: number } | null
  /** End offset of the revision the /ByteRange ends at (just after its %%EOF line), or null if it ends at none. */
  revisionEnd: number | null
  /** The file length, so checks can tell how much follows. */
  fileLength: number
  /** /M as ISO 8601, when present and parseable. */
  signingTime: string | null
  reason: string | null
  location: string | null
  name: string | null
  /** Facts from the CMS, null when /Contents could not be decoded into one. */
  cms: CmsEvidence | null
  /** Why the signature could not be examined further, when it could not. */
  problem: string | null
  /** Every incremental update after this signature's revision, classified. */
  updatesAfter: PdfUpdate[]
}

export interface PdfEvidence {
  size: number
  /** Null when the file's structure could be read; otherwise why not. */
  formatProblem: string | null
  /** End offsets of the revisions, oldest first. */
  revisions: number[]
  signatures: PdfSignatureEvidence[]
  /** Bytes after the end of the last signature's covered range; null when nothing is signed. */
  bytesAfterLastSignature: number | null
  /** Every incremental update, classified; the first revision is not an update. */
  updates: PdfUpdate[]
}

export interface PdfCheckOutcome {
  name: string
  passed: boolean
  detail: string
}

export type PdfSignatureCheck = (signature: PdfSignatureEvidence) => PdfCheckOutcome

const outcome = (name: string, passed: boolean, detail: string): PdfCheckOutcome => ({ name, passed, detail })

/** Is the file a PDF whose revisions and cross-references could be read? */
export const pdfIsWellFormed = (pdf: PdfEvidence): PdfCheckOutcome =>
  outcome('pdf-well-formed', pdf.formatProblem === null, pdf.formatProblem ?? `${pdf.revisions.length} revision(s) read`)

/** Does the file carry at least one signature? */
export const pdfIsSigned = (pdf: PdfEvidence): PdfCheckOutcome =>
  outcome('pdf-signed', pdf.signatures.length > 0, `${pdf.signatures.length} signature field(s) with a value`)

const shape = (br: number[] | null): string | null => {
  if (!br) return 'no /ByteRange array'
  if (br.length !== 4) return `/ByteRange has ${br.length} numbers, not 4`
  if (!br.every((n) => Number.isSafeInteger(n) && n >= 0)) return '/ByteRange holds a negative or non-integer number'
  const [start, a, b, c] = br as [number, number, number, number]
  if (start !== 0) return '/ByteRange does not start at byte 0'
  if (a <= 0 || b <= a) return '/ByteRange gap is empty or reversed'
  if (c <= 0) return '/ByteRange second range is empty'
  return null
}

/** Is /ByteRange four non-negative integers [0 a b c] with one non-empty gap? */
export const byteRangeIsWellFormed: PdfSignatureCheck = (s) => {
  const problem = shape(s.byteRange)
  return outcome('byte-range-well-formed', problem === null, problem ?? `[${(s.byteRange ?? []).join(' ')}]`)
}

/** Does /ByteRange end exactly at the end of a revision (its %%EOF line), so that revision is signed whole? */
export const byteRangeCoversWholeRevision: PdfSignatureCheck = (s) => {
  const problem = shape(s.byteRange)
  if (problem) return outcome('byte-range-covers-revision', false, problem)
  const [, , b, c] = s.byteRange as [number, number, number, number]
  if (b + c > s.fileLength) return outcome('byte-range-covers-revision', false, `ends at ${b + c}, past the end of the file (${s.fileLength})`)
  return s.revisionEnd === null
    ? outcome('byte-range-covers-revision', false, `ends at ${b + c}, which is not the end of any revision`)
    : outcome('byte-range-covers-revision', true, `covers bytes 0–${b + c} except the gap: the whole revision ending at ${s.revisionEnd}`)
}

/** Is the gap in /ByteRange exactly this signature dictionary's own /Contents hex string, and nothing else? */
export const contentsIsOwnGap: PdfSignatureCheck = (s) => {
  if (shape(s.byteRange)) return outcome('contents-is-own-gap', false, 'no well-formed /ByteRange')
  if (!s.contents) return outcome('contents-is-own-gap', false, '/Contents is not a hex string in the file itself')
  const [, a, b] = s.byteRange as [number, number, number]
  const own = a === s.contents.start && b === s.contents.end
  return outcome('contents-is-own-gap', own, own ? `gap ${a}–${b} is this signature's /Contents` : `gap ${a}–${b}, but /Contents is at ${s.contents.start}–${s.contents.end}`)
}

/** Is the signature PAdES (ETSI.CAdES.detached), or a PAdES document timestamp? */
export const subFilterIsPades: PdfSignatureCheck = (s) => {
  const ok = (s.type !== 'DocTimeStamp' && s.subFilter === 'ETSI.CAdES.detached') || (s.type === 'DocTimeStamp' && s.subFilter === 'ETSI.RFC3161')
  return outcome('sub-filter-pades', ok, `/Type ${s.type ?? '(none)'} /SubFilter ${s.subFilter ?? '(none)'}`)
}

/** Does /Contents hold a detached CMS SignedData with one signer whose certificate is included? */
export const cmsIsWellFormed: PdfSignatureCheck = (s) => {
  const cms = s.cms
  if (!cms || !cms.parsed) return outcome('cms-well-formed', false, s.problem ?? cms?.problem ?? 'no CMS')
  if (s.type === 'DocTimeStamp' && !cms.timestamp) return outcome('cms-well-formed', false, cms.problem ?? 'not an RFC 3161 timestamp token')
  if (s.type !== 'DocTimeStamp' && !cms.detached) return outcome('cms-well-formed', false, 'the CMS encapsulates content: PAdES signatures are detached')
  if (!cms.signerCertificate) return outcome('cms-well-formed', false, cms.problem ?? 'signer certificate not included')
  return outcome('cms-well-formed', true, `${cms.certificates.length} certificate(s), ${cms.signatureAlgorithm ?? '?'}`)
}

const WEAK_DIGESTS = new Set(['SHA-1', '1.2.840.113549.2.5'])

/** Is the digest algorithm one of SHA-256/384/512 (not SHA-1, MD5 or unknown)? */
export const digestAlgorithmIsStrong: PdfSignatureCheck = (s) => {
  const alg = s.cms?.digestAlgorithm ?? null
  const ok = alg !== null && ['SHA-256', 'SHA-384', 'SHA-512'].includes(alg)
  return outcome('digest-algorithm-strong', ok, alg === null ? 'unknown' : WEAK_DIGESTS.has(alg) ? `${alg} is broken for signatures` : alg)
}

/**
 * Does the CMS message-digest equal the digest of the bytes /ByteRange covers? For a document
 * timestamp: does message-digest match the TSTInfo, and its imprint the covered bytes?
 */
export const digestMatches: PdfSignatureCheck = (s) => {
  const cms = s.cms
  if (s.type === 'DocTimeStamp') {
    const ok = cms?.messageDigestMatches === true && cms.timestamp?.imprintMatches === true
    return outcome('digest-matches', ok, ok ? 'the timestamp imprint equals the digest of the signed byte ranges' : (s.problem ?? cms?.problem ?? 'the timestamp imprint or its message-digest does not match'))
  }
  return outcome('digest-matches', cms?.messageDigestMatches === true, cms?.messageDigestMatches ? 'message-digest equals the digest of the signed byte ranges' : (s.problem ?? cms?.problem ?? 'message-digest differs from the signed byte ranges'))
}

/** Does the signature over the signed attributes verify with the signer certificate's public key? */
export const cmsSignatureValid: PdfSignatureCheck = (s) =>
  outcome('cms-signature-valid', s.cms?.signatureValid === true, s.cms?.signatureValid ? `${s.cms.signatureAlgorithm ?? ''} signature verifies` : (s.cms?.problem ?? s.problem ?? 'signature does not verify'))

/** Does the signed signing-certificate(-v2) attribute name the certificate that signed? */
export const signingCertificateMatches: PdfSignatureCheck = (s) => {
  const v = s.cms?.signingCertificate ?? 'absent'
  return outcome('signing-certificate-matches', v === 'match', v === 'match' ? 'ESS signing-certificate binds the signer certificate' : v === 'absent' ? 'no ESS signing-certificate attribute (required by CAdES)' : 'ESS signing-certificate names another certificate')
}

/** Is the claimed time only in /M, not in a CMS signing-time attribute (which PAdES forbids)? */
export const noSigningTimeAttribute: PdfSignatureCheck = (s) => {
  if (s.type === 'DocTimeStamp') return outcome('no-signing-time-attribute', true, `document timestamp: genTime ${s.cms?.timestamp?.genTime ?? '(unknown)'}`)
  const present = s.cms?.hasSigningTimeAttribute === true
  return outcome('no-signing-time-attribute', !present, present ? 'CMS carries signing-time, which PAdES baseline forbids' : `claimed time ${s.signingTime ?? '(no /M)'} in the signature dictionary`)
}

/** Is every incremental update after this signature on the allow-list (later signatures, DSS, metadata)? */
export const noUnallowedChangesAfterSignature: PdfSignatureCheck = (s) => {
  const bad = s.updatesAfter.flatMap((u) => u.changes.filter((c) => !c.allowed).map((c) => `${c.what}${c.object === null ? '' : ` (object ${c.object})`}: ${c.detail}`))
  if (bad.length > 0) return outcome('no-unallowed-changes-after-signature', false, bad.slice(0, 5).join('; ') + (bad.length > 5 ? `; and ${bad.length - 5} more` : ''))
  const kinds = s.updatesAfter.map((u) => u.kinds.join('+'))
  return outcome('no-unallowed-changes-after-signature', true, kinds.length === 0 ? 'nothing follows the signed revision' : `later updates: ${kinds.join(', ')}`)
}

/** Every per-signature check, in the order a report lists them. */
export const PDF_SIGNATURE_CHECKS: readonly PdfSignatureCheck[] = [
  byteRangeIsWellFormed,
  byteRangeCoversWholeRevision,
  contentsIsOwnGap,
  subFilterIsPades,
  cmsIsWellFormed,
  digestAlgorithmIsStrong,
  digestMatches,
  cmsSignatureValid,
  signingCertificateMatches,
  noSigningTimeAttribute,
  noUnallowedChangesAfterSignature,
]

/** Runs every check on every signature; a file-level failure comes first. */
export function checkPdfSignatures(pdf: PdfEvidence): { file: PdfCheckOutcome[]; signatures: PdfCheckOutcome[][] } {
  return { file: [pdfIsWellFormed(pdf), pdfIsSigned(pdf)], signatures: pdf.signatures.map((s) => PDF_SIGNATURE_CHECKS.map((check) => check(s))) }
}
