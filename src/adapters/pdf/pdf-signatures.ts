import type { PdfEvidence, PdfSignatureEvidence, PdfUpdate } from '../../core/verification/pdf-checks'
import { derElementLength, verifyDetachedCms, verifyTimestampToken } from '../crypto/cms'
import { analyseUpdate, signatureFields, trailingData } from './pdf-diff'
import { PdfFormatError } from './pdf-errors'
import { PdfFile, type PdfState, type RevisionMarker } from './pdf-file'
import { concatBytes } from '../bytes'
import { PdfDict, PdfString, decodeTextString, nameOf, type PdfValue } from './pdf-syntax'

export type { PdfEvidence, PdfSignatureEvidence, PdfUpdate } from '../../core/verification/pdf-checks'

/** Larger inputs are refused before parsing; the HTTP layer caps uploads lower still. */
export const MAX_PDF_BYTES = 64 * 1024 * 1024

/**
 * Gathers the evidence about every signature in a PDF and about the file's revisions. Never
 * throws for bad input: a file whose structure cannot be read comes back with `formatProblem`,
 * a signature that cannot be examined with its own `problem`. Nothing here decides trust.
 */
export async function gatherPdfEvidence(pdf: Uint8Array): Promise<PdfEvidence> {
  const evidence: PdfEvidence = { size: pdf.length, formatProblem: null, revisions: [], signatures: [], bytesAfterLastSignature: null, updates: [] }
  if (pdf.length > MAX_PDF_BYTES) {
    evidence.formatProblem = `file is larger than ${MAX_PDF_BYTES} bytes`
    return evidence
  }
  let revisions: PdfState[]
  let fields: ReturnType<typeof signatureFields>
  try {
    const file = new PdfFile(pdf)
    revisions = revisionStates(file)
    evidence.revisions = revisions.map((r) => r.marker.end)
    for (let i = 1; i < revisions.length; i++) evidence.updates.push(analyseUpdate(revisions[i - 1] as PdfState, revisions[i] as PdfState))
    const trailing = trailingData(pdf, file.lastMarker.end)
    if (trailing) evidence.updates.push(trailing)
    fields = signatureFields(revisions[revisions.length - 1] as PdfState).filter((f) => f.value !== undefined)
  } catch (cause) {
    evidence.formatProblem = problemOf(cause)
    return evidence
  }
  const final = revisions[revisions.length - 1] as PdfState
  for (const [index, field] of fields.entries()) evidence.signatures.push(await examineSignature(pdf, final, revisions, evidence.updates, index, field.name, field.value))
  const ends = evidence.signatures.map((s) => coveredRange(s.byteRange, pdf.length)).flatMap((r) => (r ? [r.b + r.c] : []))
  if (ends.length > 0) evidence.bytesAfterLastSignature = pdf.length - Math.max(...ends)
  return evidence
}

/** The signatures alone; see gatherPdfEvidence for the file as a whole. */
export async function inspectPdfSignatures(pdf: Uint8Array): Promise<PdfSignatureEvidence[]> {
  return (await gatherPdfEvidence(pdf)).signatures
}

function problemOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

/**
 * The revisions a reader of the final file sees: the final cross-reference chain, each section
 * paired with the first `startxref … %%EOF` after it that names it.
 */
function revisionStates(file: PdfFile): PdfState[] {
  const final = file.stateAt(file.lastMarker)
  const markers: RevisionMarker[] = []
  for (const section of final.chain) {
    const marker = file.markers.find((m) => m.startxref === section.offset && m.eof > section.offset)
    if (marker && !markers.includes(marker)) markers.push(marker)
  }
  if (!markers.includes(file.lastMarker)) markers.push(file.lastMarker)
  markers.sort((a, b) => a.end - b.end)
  return markers.map((m) => (m === file.lastMarker ? final : file.stateAt(m)))
}

async function examineSignature(pdf: Uint8Array, final: PdfState, revisions: PdfState[], updates: PdfUpdate[], index: number, fieldName: string | null, value: PdfValue | undefined): Promise<PdfSignatureEvidence> {
  const evidence: PdfSignatureEvidence = {
    index,
    fieldName,
    type: null,
    filter: null,
    subFilter: null,
    byteRange: null,
    contents: null,
    revisionEnd: null,
    fileLength: pdf.length,
    signingTime: null,
    reason: null,
    location: null,
    name: null,
    cms: null,
    problem: null,
    updatesAfter: [],
  }
  try {
    const dict = final.dict(value)
    if (!(dict instanceof PdfDict)) throw new PdfFormatError('the signature value is not a dictionary')
    evidence.type = nameOf(dict.get('Type')) ?? null
    evidence.filter = nameOf(dict.get('Filter')) ?? null
    evidence.subFilter = nameOf(dict.get('SubFilter')) ?? null
    evidence.signingTime = pdfDate(decodeTextString(dict.get('M')))
    evidence.reason = decodeTextString(dict.get('Reason')) ?? null
    evidence.location = decodeTextString(dict.get('Location')) ?? null
    evidence.name = decodeTextString(dict.get('Name')) ?? null
    const byteRange = dict.get('ByteRange')
    if (Array.isArray(byteRange) && byteRange.every((n) => typeof n === 'number')) evidence.byteRange = byteRange as number[]
    const contents = dict.get('Contents')
    if (contents instanceof PdfString && contents.hex && contents.start >= 0) evidence.contents = { start: contents.start, end: contents.end }

    const range = coveredRange(evidence.byteRange, pdf.length)
    const coveredEnd = range ? range.b + range.c : 0
    const revision = revisions.find((r) => coveredEnd >= r.marker.eof + 5 && coveredEnd <= r.marker.end)
    evidence.revisionEnd = revision ? revision.marker.end : null
    evidence.updatesAfter = updates.filter((u) => u.end > (evidence.revisionEnd ?? coveredEnd))

    if (dict.duplicateKeys.length > 0) throw new PdfFormatError(`signature dictionary repeats ${dict.duplicateKeys.map((k) => '/' + k).join(', ')}`)
    if (!(contents instanceof PdfString)) throw new PdfFormatError('/Contents is not a string')
    const cms = unpad(contents.bytes)
    const covered = range ? concatBytes([pdf.subarray(0, range.a), pdf.subarray(range.b, range.b + range.c)]) : null
    evidence.cms =
      evidence.type === 'DocTimeStamp'
        ? await verifyTimestampToken(cms, covered ?? new Uint8Array())
        : await verifyDetachedCms(cms, covered ? { content: covered } : { digest: new Uint8Array() })
    if (!covered) evidence.problem = '/ByteRange does not describe bytes of this file'
  } catch (cause) {
    evidence.problem = problemOf(cause)
  }
  return evidence
}

function coveredRange(br: number[] | null, length: number): { a: number; b: number; c: number } | null {
  if (!br || br.length !== 4 || !br.every((n) => Number.isSafeInteger(n) && n >= 0)) return null
  const [start, a, b, c] = br as [number, number, number, number]
  if (start !== 0 || a > b || b + c > length) return null
  return { a, b, c }
}

/** /Contents is the DER CMS followed by zero padding to the reserved size; anything else after it is refused. */
function unpad(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw new PdfFormatError('/Contents is empty')
  const length = derElementLength(bytes)
  for (let i = length; i < bytes.length; i++) if (bytes[i] !== 0) throw new PdfFormatError('/Contents has non-zero bytes after the CMS')
  return bytes.subarray(0, length)
}

/** PDF dates (§7.9.4): D:YYYYMMDDHHmmSSOHH'mm', every part after the year optional. */
export function pdfDate(text: string | undefined): string | null {
  const m = text?.match(/^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?'?)?$/)
  if (!m) return null
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m
  const offset = !sign || sign === 'Z' || sign === 'z' ? 'Z' : `${sign}${oh}:${om}`
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}
