import { PdfFormatError } from './pdf-errors'
import {
  PdfDict,
  PdfLexer,
  PdfRef,
  PdfStream,
  bytesToLatin1,
  decodeStream,
  indexOfBytes,
  isWhitespace,
  latin1ToBytes,
  nameOf,
  type PdfValue,
} from './pdf-syntax'

/**
 * The revision structure of a PDF (ISO 32000-1 §7.5): cross-reference sections, trailers, and
 * each revision's end (`startxref N %%EOF`). `stateAt(marker)` is the document a reader sees
 * if the file were cut at that marker, which is exactly what a signature ending there signed.
 */
export type XrefEntry = { type: 0 } | { type: 1; offset: number; gen: number } | { type: 2; stream: number; index: number }

export interface XrefSection {
  offset: number
  kind: 'table' | 'stream'
  entries: Map<number, XrefEntry>
  trailer: PdfDict
  /** The object number of a cross-reference stream, which is itself part of the update. */
  streamObject: number | null
}

export interface RevisionMarker {
  /** The value after `startxref`. */
  startxref: number
  /** Offset of `%%EOF`. */
  eof: number
  /** Offset just after `%%EOF` and its end-of-line, where the next revision begins. */
  end: number
}

const MAX_SECTIONS = 1000
const MAX_MARKERS = 1000
const MAX_OBJECT_NUMBER = 8_388_607
const MAX_INFLATE = 16 * 1024 * 1024
const STARTXREF = latin1ToBytes('startxref')
const EOF = latin1ToBytes('%%EOF')

export class PdfFile {
  readonly markers: RevisionMarker[]
  private readonly sections = new Map<number, XrefSection>()
  private readonly objectsByOffset = new Map<number, { num: number; gen: number; value: PdfValue }>()
  private readonly objectStreams = new Map<number, { offsets: Map<number, number>; body: Uint8Array; values: Map<number, PdfValue> }>()

  constructor(readonly bytes: Uint8Array) {
    if (indexOfBytes(bytes, latin1ToBytes('%PDF-'), 0, Math.min(bytes.length, 1024)) === -1) throw new PdfFormatError('not a PDF: no %PDF- header in the first 1024 bytes')
    this.markers = findMarkers(bytes)
    if (this.markers.length === 0) throw new PdfFormatError('no startxref … %%EOF: the file is truncated or not a PDF')
  }

  get lastMarker(): RevisionMarker {
    return this.markers[this.markers.length - 1] as RevisionMarker
  }

  /** The document as of a revision marker; the final document is `stateAt(lastMarker)`. */
  stateAt(marker: RevisionMarker): PdfState {
    const chain: XrefSection[] = []
    const seen = new Set<number>()
    let offset: number | null = marker.startxref
    while (offset !== null) {
      if (seen.has(offset)) throw new PdfFormatError(`cross-reference /Prev loop at ${offset}`)
      if (chain.length >= MAX_SECTIONS) throw new PdfFormatError('too many cross-reference sections')
      if (offset >= marker.eof) throw new PdfFormatError(`cross-reference section at ${offset} lies past its own revision end`)
      seen.add(offset)
      const section = this.section(offset)
      chain.push(section)
      const prev = section.trailer.get('Prev')
      offset = prev === undefined ? null : asOffset(prev, '/Prev')
    }
    return new PdfState(this, chain, marker)
  }

  section(offset: number): XrefSection {
    let section = this.sections.get(offset)
    if (!section) {
      section = this.readSection(offset)
      this.sections.set(offset, section)
    }
    return section
  }

  private readSection(offset: number): XrefSection {
    const lexer = new PdfLexer(this.bytes, offset)
    if (!lexer.atKeyword('xref')) {
      const stream = this.objectAt(offset)
      return { offset, kind: 'stream', ...readXrefStream(stream.value, offset), streamObject: stream.num }
    }
    lexer.pos += 4
    const entries = new Map<number, XrefEntry>()
    while (!lexer.atKeyword('trailer')) {
      const first = lexer.readInteger()
      const count = lexer.readInteger()
      if (first + count > MAX_OBJECT_NUMBER || count * 18 > this.bytes.length - lexer.pos) lexer.fail('cross-reference subsection too large')
      for (let i = 0; i < count; i++) {
        const field = lexer.readInteger()
        const gen = lexer.readInteger()
        const inUse = lexer.atKeyword('n')
        if (!inUse && !lexer.atKeyword('f')) lexer.fail('cross-reference entry is neither n nor f')
        lexer.pos += 1
        if (!entries.has(first + i)) entries.set(first + i, inUse ? { type: 1, offset: field, gen } : { type: 0 })
      }
    }
    lexer.pos += 7
    const trailer = lexer.parseValue()
    if (!(trailer instanceof PdfDict)) throw new PdfFormatError(`trailer at ${lexer.pos} is not a dictionary`)
    const hybrid = trailer.get('XRefStm')
    if (hybrid !== undefined) {
      // Hybrid-reference file (§7.5.8.4): the table wins, the stream fills in what it lacks.
      const extra = readXrefStream(this.objectAt(asOffset(hybrid, '/XRefStm')).value, offset)
      for (const [num, entry] of extra.entries) if (!entries.has(num)) entries.set(num, entry)
    }
    return { offset, kind: 'table', entries, trailer, streamObject: null }
  }

  /** The indirect object starting at a byte offset, parsed once per file. */
  objectAt(offset: number, expect?: { num: number; gen: number }): { num: number; gen: number; value: PdfValue } {
    let object = this.objectsByOffset.get(offset)
    if (!object) {
      if (!Number.isInteger(offset) || offset < 0 || offset >= this.bytes.length) throw new PdfFormatError(`object offset ${offset} is outside the file`)
      const lexer = new PdfLexer(this.bytes, offset)
      const parsed = lexer.parseIndirectObject((length) => this.directLength(length))
      object = { num: parsed.num, gen: parsed.gen, value: parsed.value }
      this.objectsByOffset.set(offset, object)
    }
    if (expect && (object.num !== expect.num || object.gen !== expect.gen)) throw new PdfFormatError(`cross-reference says object ${expect.num} ${expect.gen} is at ${offset}, but ${object.num} ${object.gen} is there`)
    return object
  }

  /**
   * An indirect /Length is resolved through the final revision: structural streams (xref and
   * object streams) must have a direct /Length, which every writer we know produces.
   */
  private directLength(length: PdfValue): number | undefined {
    if (typeof length === 'number') return length
    if (length instanceof PdfRef && !this.readingLengthState) {
      if (!this.lengthState) {
        this.readingLengthState = true
        try {
          this.lengthState = this.stateAt(this.lastMarker)
        } finally {
          this.readingLengthState = false
        }
      }
      const value = this.lengthState.resolve(length)
      return typeof value === 'number' ? value : undefined
    }
    return undefined
  }

  private lengthState: PdfState | undefined
  private readingLengthState = false

  /** Object `num` inside the object stream at `offset`, parsed once per file. */
  objectInStream(offset: number, stream: PdfValue, num: number, streamNum: number): PdfValue {
    const { offsets, body, values } = this.objectStream(offset, stream)
    if (values.has(num)) return values.get(num) as PdfValue
    const at = offsets.get(num)
    if (at === undefined) throw new PdfFormatError(`object ${num} is missing from object stream ${streamNum}`)
    const value = new PdfLexer(body, at, false).parseValue()
    values.set(num, value)
    return value
  }

  private objectStream(offset: number, stream: PdfValue): { offsets: Map<number, number>; body: Uint8Array; values: Map<number, PdfValue> } {
    let decoded = this.objectStreams.get(offset)
    if (!decoded) {
      if (!(stream instanceof PdfStream) || nameOf(stream.dict.get('Type')) !== 'ObjStm') throw new PdfFormatError(`object at ${offset} is not an object stream`)
      const body = decodeStream(stream, MAX_INFLATE)
      const n = stream.dict.get('N')
      const first = stream.dict.get('First')
      if (typeof n !== 'number' || typeof first !== 'number' || n < 0 || n > body.length || first < 0 || first > body.length) throw new PdfFormatError('object stream /N or /First out of range')
      const lexer = new PdfLexer(body, 0, false)
      const offsets = new Map<number, number>()
      for (let i = 0; i < n; i++) {
        const num = lexer.readInteger()
        offsets.set(num, first + lexer.readInteger())
      }
      decoded = { offsets, body, values: new Map() }
      this.objectStreams.set(offset, decoded)
    }
    return decoded
  }
}

function asOffset(value: PdfValue, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new PdfFormatError(`${what} is not a byte offset`)
  return value
}

function readXrefStream(value: PdfValue, offset: number): { entries: Map<number, XrefEntry>; trailer: PdfDict } {
  if (!(value instanceof PdfStream) || nameOf(value.dict.get('Type')) !== 'XRef') throw new PdfFormatError(`startxref/Prev ${offset} points to neither "xref" nor a cross-reference stream`)
  const dict = value.dict
  const w = dict.get('W')
  const size = dict.get('Size')
  if (!Array.isArray(w) || w.length !== 3 || !w.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 8) || typeof size !== 'number') throw new PdfFormatError('cross-reference stream /W or /Size malformed')
  const widths = w as number[]
  const index = dict.get('Index') ?? [0, size]
  if (!Array.isArray(index) || index.length % 2 !== 0 || !index.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) throw new PdfFormatError('cross-reference stream /Index malformed')
  const data = decodeStream(value, MAX_INFLATE)
  const rowLength = widths.reduce((a, b) => a + b, 0)
  if (rowLength === 0) throw new PdfFormatError('cross-reference stream /W is all zero')
  const entries = new Map<number, XrefEntry>()
  let at = 0
  const field = (width: number, fallback: number) => {
    if (width === 0) return fallback
    let v = 0
    for (let i = 0; i < width; i++) v = v * 256 + (data[at++] as number)
    return v
  }
  for (let k = 0; k < index.length; k += 2) {
    const first = index[k] as number
    const count = index[k + 1] as number
    if (first + count > MAX_OBJECT_NUMBER || at + count * rowLength > data.length) throw new PdfFormatError('cross-reference stream shorter than its /Index says')
    for (let i = 0; i < count; i++) {
      const type = field(widths[0] as number, 1)
      const f2 = field(widths[1] as number, 0)
      const f3 = field(widths[2] as number, 0)
      if (entries.has(first + i)) continue
      if (type === 1) entries.set(first + i, { type: 1, offset: f2, gen: f3 })
      else if (type === 2) entries.set(first + i, { type: 2, stream: f2, index: f3 })
      else entries.set(first + i, { type: 0 })
    }
  }
  return { entries, trailer: dict }
}

/** Every `startxref <n> %%EOF` in the file, in order. Text inside streams may look like one; only markers a signature or the last revision names are used. */
function findMarkers(bytes: Uint8Array): RevisionMarker[] {
  const markers: RevisionMarker[] = []
  for (let at = indexOfBytes(bytes, STARTXREF); at !== -1 && markers.length < MAX_MARKERS; at = indexOfBytes(bytes, STARTXREF, at + 1)) {
    let p = at + STARTXREF.length
    while (isWhitespace(bytes[p])) p++
    const digitsStart = p
    while (p < bytes.length && (bytes[p] as number) >= 48 && (bytes[p] as number) <= 57 && p - digitsStart < 16) p++
    if (p === digitsStart) continue
    const startxref = Number(bytesToLatin1(bytes, digitsStart, p))
    while (isWhitespace(bytes[p])) p++
    if (indexOfBytes(bytes, EOF, p, p + EOF.length) !== p) continue
    let end = p + EOF.length
    if (bytes[end] === 13) end++
    if (bytes[end] === 10) end++
    markers.push({ startxref, eof: p, end })
  }
  return markers
}

const MAX_REF_HOPS = 32

/** One revision of the document: its cross-reference chain, newest section first. */
export class PdfState {
  private readonly cache = new Map<number, PdfValue | undefined>()
  private readonly resolving = new Set<number>()

  constructor(readonly file: PdfFile, readonly chain: XrefSection[], readonly marker: RevisionMarker) {}

  get trailer(): PdfDict {
    return (this.chain[0] as XrefSection).trailer
  }

  entry(num: number): XrefEntry | undefined {
    for (const section of this.chain) {
      const entry = section.entries.get(num)
      if (entry) return entry
    }
    return undefined
  }

  has(num: number): boolean {
    const entry = this.entry(num)
    return entry !== undefined && entry.type !== 0
  }

  /** The value of an object (undefined when free or absent, as a reader treats it: null). */
  resolve(ref: PdfRef | number): PdfValue | undefined {
    const num = typeof ref === 'number' ? ref : ref.num
    if (this.cache.has(num)) return this.cache.get(num)
    if (this.resolving.has(num)) throw new PdfFormatError(`object ${num} is defined in terms of itself`)
    this.resolving.add(num)
    try {
      const value = this.load(num)
      this.cache.set(num, value)
      return value
    } finally {
      this.resolving.delete(num)
    }
  }

  private load(num: number): PdfValue | undefined {
    const entry = this.entry(num)
    if (!entry || entry.type === 0) return undefined
    if (entry.type === 1) {
      if (entry.offset >= this.marker.eof) throw new PdfFormatError(`object ${num} is said to be at ${entry.offset}, past its revision`)
      return this.file.objectAt(entry.offset, { num, gen: entry.gen }).value
    }
    const container = this.entry(entry.stream)
    if (!container || container.type !== 1) throw new PdfFormatError(`object ${num} is in object stream ${entry.stream}, which is not a plain object`)
    const stream = this.file.objectAt(container.offset, { num: entry.stream, gen: container.gen }).value
    return this.file.objectInStream(container.offset, stream, num, entry.stream)
  }

  /** Follows references until a direct value. */
  get(value: PdfValue | undefined): PdfValue | undefined {
    for (let hops = 0; value instanceof PdfRef; hops++) {
      if (hops > MAX_REF_HOPS) throw new PdfFormatError('chain of references too long')
      value = this.resolve(value)
    }
    return value
  }

  dict(value: PdfValue | undefined): PdfDict | undefined {
    const v = this.get(value)
    return v instanceof PdfDict ? v : v instanceof PdfStream ? v.dict : undefined
  }

  array(value: PdfValue | undefined): PdfValue[] | undefined {
    const v = this.get(value)
    return Array.isArray(v) ? v : undefined
  }

  catalog(): { ref: PdfRef; dict: PdfDict } {
    const root = this.trailer.get('Root')
    const dict = root instanceof PdfRef ? this.dict(root) : undefined
    if (!(root instanceof PdfRef) || !dict) throw new PdfFormatError('trailer /Root is not a dictionary object')
    return { ref: root, dict }
  }

  /** Page objects in order, walking /Pages /Kids with bounds on depth and count. */
  pages(): { ref: PdfRef; dict: PdfDict }[] {
    const pages: { ref: PdfRef; dict: PdfDict }[] = []
    const seen = new Set<number>()
    const walk = (ref: PdfValue | undefined, depth: number) => {
      if (!(ref instanceof PdfRef) || depth > 64 || seen.has(ref.num) || seen.size > 100_000) throw new PdfFormatError('page tree is malformed (loop, too deep or not indirect)')
      seen.add(ref.num)
      const node = this.dict(ref)
      if (!node) throw new PdfFormatError(`page tree node ${ref.num} is not a dictionary`)
      const type = nameOf(node.get('Type'))
      if (type === 'Page') pages.push({ ref, dict: node })
      else if (type === 'Pages') for (const kid of this.array(node.get('Kids')) ?? []) walk(kid, depth + 1)
      else throw new PdfFormatError(`page tree node ${ref.num} has /Type ${String(type)}`)
    }
    walk(this.catalog().dict.get('Pages'), 0)
    return pages
  }
}
