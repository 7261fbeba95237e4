import { deflate } from 'pako'
import { PDFArray, PDFBool, PDFContentStream, PDFDict as LibDict, PDFDocument, PDFHexString, PDFName, PDFNull, PDFNumber, PDFRef as LibRef, PDFStream as LibStream, PDFString as LibString, type PDFObject, type PDFPage } from 'pdf-lib'
import { TongbanError } from '../../core/errors'
import { CmsKeyMismatchError, digestAlgorithmFor, signDetachedCms } from '../crypto/cms'
import { PdfFormatError, PdfSigningError } from './pdf-errors'
import { PdfFile, type PdfState } from './pdf-file'
import { signatureFields } from './pdf-diff'
import { concatBytes } from '../bytes'
import {
  PdfDict,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  decodeTextString,
  encodeTextString,
  indexOfBytes,
  latin1ToBytes,
  nameOf,
  serializeIndirectObject,
  serializeValue,
  type PdfValue,
} from './pdf-syntax'

export interface SignatureAppearance {
  /** Zero-based page index, as pdf-lib counts pages. */
  page: number
  /** Lower-left and upper-right corners in page user space. */
  rect: [number, number, number, number]
  /**
   * Draws the appearance (e.g. the red seal) on a blank page the size of `rect`, origin at its
   * lower-left corner; whatever it draws becomes the widget's appearance stream. `pdfDoc` is a
   * scratch document to embed fonts and images in; a ready Form XObject (a seal made as a
   * one-page PDF) goes in with `page.drawPage((await pdfDoc.embedPdf(bytes))[0])`.
   */
  draw?: (page: PDFPage, pdfDoc: PDFDocument) => void | Promise<void>
  /** A ready PNG or JPEG (e.g. a seal image) scaled to fill `rect`, drawn before `draw`. */
  image?: Uint8Array
}

export interface SignPdfOptions {
  privateKey: CryptoKey
  /** DER. */
  certificate: Uint8Array
  /** DER issuing CAs, up to the root. */
  chain: Uint8Array[]
  /** The claimed signing time, written to /M (PAdES keeps it out of the CMS). Defaults to now. */
  signingTime?: Date
  reason?: string
  location?: string
  name?: string
  /** Signature field name; defaults to the first free `SignatureN`. */
  fieldName?: string
  /** Omit for an invisible signature. */
  appearance?: SignatureAppearance
}

/** Room for the CMS besides its certificates: signed attributes, a 4096-bit RSA signature, and headroom. */
const CMS_OVERHEAD = 6144
const BYTE_RANGE_WIDTH = 48

/**
 * Signs a PDF with a PAdES baseline B-B signature (ETSI EN 319 142-1, SubFilter
 * ETSI.CAdES.detached) that covers the whole file. The signature is always appended as an
 * incremental update (ISO 32000-1 §7.5.6), for a plain PDF as for one already signed: the
 * original bytes are never rewritten, so earlier signatures stay valid, and the update adds only
 * what the verifier's allow-list expects (signature dictionary, field/widget, appearance, the
 * page's /Annots, the AcroForm). The cross-reference section is written in the style of the
 * previous one (table or stream).
 */
export async function signPdf(pdf: Uint8Array, opts: SignPdfOptions): Promise<Uint8Array> {
  const file = new PdfFile(pdf)
  const state = file.stateAt(file.lastMarker)
  if (state.trailer.get('Encrypt') !== undefined) throw new PdfSigningError('pdf_encrypted', 'encrypted PDFs cannot be signed; decrypt it first')
  refuseIfCertifiedNoChanges(state)
  let hash: string
  try {
    hash = digestAlgorithmFor(opts.privateKey)
  } catch (cause) {
    throw new PdfSigningError('pdf_unsupported_key', cause instanceof Error ? cause.message : 'unsupported key', { cause })
  }

  const pages = state.pages()
  const pageIndex = opts.appearance?.page ?? 0
  const page = pages[pageIndex]
  if (!page || !Number.isInteger(pageIndex)) throw new PdfSigningError('pdf_page_out_of_range', `page ${pageIndex} does not exist; the document has ${pages.length} page(s) (zero-based)`)
  const size = state.trailer.get('Size')
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw new PdfFormatError('trailer /Size is missing')
  // A /Size smaller than the objects in use would make new objects overwrite old ones.
  let next = Math.max(size, ...state.chain.flatMap((section) => [...section.entries.keys()].map((num) => num + 1)))
  const objects = new Map<number, PdfValue>()
  const sigNum = next++
  const fieldNum = next++

  const taken = new Set(signatureFields(state).map((f) => f.name))
  for (const field of state.array(state.dict(state.catalog().dict.get('AcroForm'))?.get('Fields')) ?? []) taken.add(decodeTextString(state.dict(field)?.get('T')) ?? null)
  let fieldName = opts.fieldName
  for (let n = 1; !fieldName; n++) if (!taken.has(`Signature${n}`)) fieldName = `Signature${n}`
  if (taken.has(fieldName)) throw new PdfSigningError('pdf_field_exists', `a field named ${fieldName} already exists`)

  const rect = opts.appearance?.rect ?? [0, 0, 0, 0]
  const widget = new PdfDict(
    new Map<string, PdfValue>([
      ['Type', new PdfName('Annot')],
      ['Subtype', new PdfName('Widget')],
      ['FT', new PdfName('Sig')],
      ['T', encodeTextString(fieldName)],
      ['V', new PdfRef(sigNum, 0)],
      ['F', 132],
      ['P', page.ref],
      ['Rect', [...rect]],
    ]),
  )
  if (opts.appearance) {
    const [x1, y1, x2, y2] = opts.appearance.rect
    const appearance = await buildAppearance(opts.appearance, Math.abs(x2 - x1), Math.abs(y2 - y1), next).catch((cause: unknown) => {
      // The drawing callback and image decoding are the caller's input: their failures are 4xx.
      throw cause instanceof TongbanError ? cause : new PdfSigningError('pdf_bad_appearance', `the appearance could not be drawn: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    })
    for (const [num, value] of appearance.objects) objects.set(num, value)
    next = appearance.next
    widget.entries.set('AP', new PdfDict(new Map([['N', new PdfRef(appearance.xobject, 0)]])))
  }
  objects.set(fieldNum, widget)
  next = addToAnnots(state, page, fieldNum, objects, next)
  next = addToAcroForm(state, fieldNum, objects, next)

  const certificates = [opts.certificate, ...opts.chain]
  const reserve = certificates.reduce((n, c) => n + c.length, 0) + CMS_OVERHEAD
  const time = opts.signingTime ?? new Date()
  const info = [['Reason', opts.reason], ['Location', opts.location], ['Name', opts.name]] as const
  const sigDict =
    `<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange [${' '.repeat(BYTE_RANGE_WIDTH)}]/Contents <${'0'.repeat(reserve * 2)}>` +
    `/M ${serializeValue(encodeTextString(pdfDateString(time)))}` +
    info.map(([key, v]) => (v ? `/${key} ${serializeValue(encodeTextString(v))}` : '')).join('') +
    '>>'
  const sigObject = latin1ToBytes(`${sigNum} 0 obj\n${sigDict}\nendobj\n`)

  const parts: Uint8Array[] = []
  let at = pdf.length
  const offsets = new Map<number, number>()
  const push = (bytes: Uint8Array) => {
    parts.push(bytes)
    at += bytes.length
  }
  const last = pdf[pdf.length - 1]
  if (last !== 10 && last !== 13) push(latin1ToBytes('\n'))
  offsets.set(sigNum, at)
  const sigAt = at
  push(sigObject)
  for (const num of [...objects.keys()].sort((a, b) => a - b)) {
    offsets.set(num, at)
    push(serializeIndirectObject(num, objects.get(num) as PdfValue))
  }
  push(crossReference(state, offsets, next, at))
  const out = concatBytes([pdf, ...parts])

  const contentsStart = sigAt + offsetIn(sigObject, '/Contents <') + '/Contents '.length
  const contentsEnd = contentsStart + reserve * 2 + 2
  const byteRange = `0 ${contentsStart} ${contentsEnd} ${out.length - contentsEnd}`.padEnd(BYTE_RANGE_WIDTH, ' ')
  out.set(latin1ToBytes(byteRange), sigAt + offsetIn(sigObject, '/ByteRange [') + '/ByteRange ['.length)

  const covered = concatBytes([out.subarray(0, contentsStart), out.subarray(contentsEnd)])
  const digest = new Uint8Array(await crypto.subtle.digest(hash, covered as BufferSource))
  let cms: Uint8Array
  try {
    cms = await signDetachedCms(digest, { privateKey: opts.privateKey, certificate: opts.certificate, chain: opts.chain })
  } catch (cause) {
    if (cause instanceof CmsKeyMismatchError) throw new PdfSigningError('pdf_signer_key_mismatch', cause.message, { cause })
    if (cause instanceof TongbanError) throw cause
    // WebCrypto refuses keys without the sign usage, or of another kind than they claim.
    throw new PdfSigningError('pdf_unsupported_key', `the private key cannot sign: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  if (cms.length > reserve) throw new PdfSigningError('pdf_signature_too_large', `the CMS (${cms.length} bytes) exceeds the ${reserve} bytes reserved`)
  out.set(latin1ToBytes(Array.from(cms, (b) => b.toString(16).padStart(2, '0')).join('')), contentsStart + 1)
  return out
}

function offsetIn(bytes: Uint8Array, text: string): number {
  const at = indexOfBytes(bytes, latin1ToBytes(text))
  if (at === -1) throw new PdfFormatError(`internal: ${text} not found in the signature object`)
  return at
}

/** A certified document whose DocMDP permission is 1 allows no change at all, not even a signature. */
function refuseIfCertifiedNoChanges(state: PdfState): void {
  const docMdp = state.dict(state.dict(state.catalog().dict.get('Perms'))?.get('DocMDP'))
  for (const reference of state.array(docMdp?.get('Reference')) ?? []) {
    const ref = state.dict(reference)
    if (nameOf(ref?.get('TransformMethod')) === 'DocMDP' && state.get(state.dict(ref?.get('TransformParams'))?.get('P')) === 1)
      throw new PdfSigningError('pdf_certified_no_changes', 'the document is certified with DocMDP P=1: no further signature is permitted')
  }
}

/** The page's /Annots gains the widget: the array object is rewritten if indirect, else the page. */
function addToAnnots(state: PdfState, page: { ref: PdfRef; dict: PdfDict }, widget: number, objects: Map<number, PdfValue>, next: number): number {
  const annots = page.dict.get('Annots')
  const entry = new PdfRef(widget, 0)
  if (annots instanceof PdfRef) {
    objects.set(annots.num, [...(state.array(annots) ?? []), entry])
    return next
  }
  const updated = new PdfDict(new Map(page.dict.entries))
  updated.entries.set('Annots', [...(Array.isArray(annots) ? annots : []), entry])
  objects.set(page.ref.num, updated)
  return next
}

/** The AcroForm gains the field and /SigFlags 3 (signatures exist, append only). */
function addToAcroForm(state: PdfState, field: number, objects: Map<number, PdfValue>, next: number): number {
  const catalog = state.catalog()
  const acroRef = catalog.dict.get('AcroForm')
  const acro = new PdfDict(new Map(state.dict(acroRef)?.entries ?? []))
  const entry = new PdfRef(field, 0)
  const fields = acro.get('Fields')
  if (fields instanceof PdfRef) objects.set(fields.num, [...(state.array(fields) ?? []), entry])
  else acro.entries.set('Fields', [...(Array.isArray(fields) ? fields : []), entry])
  acro.entries.set('SigFlags', 3)
  if (acroRef instanceof PdfRef) {
    objects.set(acroRef.num, acro)
    return next
  }
  const acroNum = next++
  objects.set(acroNum, acro)
  const updated = new PdfDict(new Map(catalog.dict.entries))
  updated.entries.set('AcroForm', new PdfRef(acroNum, 0))
  objects.set(catalog.ref.num, updated)
  return next
}

/** Writes the update's cross-reference section, trailer, startxref and %%EOF. */
function crossReference(state: PdfState, offsets: Map<number, number>, next: number, at: number): Uint8Array {
  const previous = state.chain[0] as { offset: number; kind: 'table' | 'stream' }
  const trailer = new PdfDict()
  for (const key of ['Root', 'Info', 'ID']) {
    const v = state.trailer.get(key)
    if (v !== undefined) trailer.entries.set(key, v)
  }
  trailer.entries.set('Prev', previous.offset)
  if (previous.kind === 'stream') {
    const xrefNum = next++
    offsets.set(xrefNum, at)
    trailer.entries.set('Size', next)
    const nums = [...offsets.keys()].sort((a, b) => a - b)
    const data = new Uint8Array(nums.length * 7)
    nums.forEach((num, i) => {
      const offset = offsets.get(num) as number
      data.set([1, offset >>> 24, (offset >>> 16) & 0xff, (offset >>> 8) & 0xff, offset & 0xff, 0, 0], i * 7)
    })
    trailer.entries.set('Type', new PdfName('XRef'))
    trailer.entries.set('W', [1, 4, 2])
    trailer.entries.set('Index', subsections(nums).flatMap((s) => [s.first, s.nums.length]))
    return concatBytes([serializeIndirectObject(xrefNum, new PdfStream(trailer, data)), latin1ToBytes(`startxref\n${at}\n%%EOF\n`)])
  }
  trailer.entries.set('Size', next)
  let table = 'xref\n'
  for (const s of subsections([...offsets.keys()].sort((a, b) => a - b))) {
    table += `${s.first} ${s.nums.length}\n`
    for (const num of s.nums) table += `${String(offsets.get(num)).padStart(10, '0')} 00000 n\r\n`
  }
  return latin1ToBytes(`${table}trailer\n${serializeValue(trailer)}\nstartxref\n${at}\n%%EOF\n`)
}

function subsections(sorted: number[]): { first: number; nums: number[] }[] {
  const out: { first: number; nums: number[] }[] = []
  for (const num of sorted) {
    const last = out[out.length - 1]
    if (last && last.first + last.nums.length === num) last.nums.push(num)
    else out.push({ first: num, nums: [num] })
  }
  return out
}

function pdfDateString(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
}

/**
 * Renders the appearance with pdf-lib on a scratch page, turns the page into a Form XObject, and
 * copies it and every object it uses into this update under fresh object numbers.
 */
async function buildAppearance(appearance: SignatureAppearance, width: number, height: number, first: number): Promise<{ xobject: number; objects: Map<number, PdfValue>; next: number }> {
  const doc = await PDFDocument.create({ updateMetadata: false })
  const page = doc.addPage([width, height])
  if (appearance.image) {
    const image = appearance.image
    const embedded = image[0] === 0x89 && image[1] === 0x50 ? await doc.embedPng(image) : await doc.embedJpg(image)
    page.drawImage(embedded, { x: 0, y: 0, width, height })
  }
  if (appearance.draw) await appearance.draw(page, doc)
  await doc.flush()
  const contents = page.node.Contents()
  const streams = contents instanceof PDFArray ? contents.asArray().map((ref) => doc.context.lookup(ref)) : contents ? [contents] : []
  const body = concatBytes(
    streams.flatMap((s) => {
      if (!(s instanceof PDFContentStream)) throw new PdfSigningError('pdf_bad_appearance', 'the appearance page holds a content stream pdf-lib did not draw')
      return [s.getUnencodedContents(), latin1ToBytes('\n')]
    }),
  )
  const numbers = new Map<LibRef, number>()
  const objects = new Map<number, PdfValue>()
  let next = first
  const queue: LibRef[] = []
  const numberOf = (ref: LibRef) => {
    let num = numbers.get(ref)
    if (num === undefined) {
      num = next++
      numbers.set(ref, num)
      queue.push(ref)
    }
    return num
  }
  const convert = (obj: PDFObject | undefined): PdfValue => {
    if (obj === undefined || obj === PDFNull) return null
    if (obj instanceof LibRef) return new PdfRef(numberOf(obj), 0)
    if (obj instanceof PDFName) return new PdfName(obj.decodeText())
    if (obj instanceof PDFNumber) return obj.asNumber()
    if (obj instanceof PDFBool) return obj.asBoolean()
    if (obj instanceof LibString || obj instanceof PDFHexString) return new PdfString(obj.asBytes(), -1, -1, obj instanceof PDFHexString)
    if (obj instanceof PDFArray) return obj.asArray().map(convert)
    if (obj instanceof LibDict) return new PdfDict(new Map(obj.entries().map(([k, v]) => [k.decodeText(), convert(v)])))
    if (obj instanceof LibStream) return new PdfStream(convert(obj.dict) as PdfDict, obj.getContents())
    throw new PdfSigningError('pdf_bad_appearance', `cannot copy a ${obj.constructor.name} from the appearance`)
  }
  const xobject = next++
  const resources = convert(page.node.Resources())
  objects.set(
    xobject,
    new PdfStream(
      new PdfDict(
        new Map<string, PdfValue>([
          ['Type', new PdfName('XObject')],
          ['Subtype', new PdfName('Form')],
          ['BBox', [0, 0, width, height]],
          ['Resources', resources],
          ['Filter', new PdfName('FlateDecode')],
        ]),
      ),
      deflate(body),
    ),
  )
  for (let ref = queue.shift(); ref; ref = queue.shift()) objects.set(numbers.get(ref) as number, convert(doc.context.lookup(ref)))
  return { xobject, objects, next }
}
