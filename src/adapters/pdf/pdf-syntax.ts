import { Inflate } from 'pako'
import { PdfFormatError } from './pdf-errors'
import { concatBytes } from '../bytes'

/**
 * The PDF object model (ISO 32000-1 §7.3) as far as signing and signature verification need it.
 * Values parsed from the file remember where strings sit, because a signature's /Contents must
 * be exactly the gap its /ByteRange leaves. The reader never repairs: a broken file is reported,
 * not guessed at, since repair is where viewers disagree and attacks hide.
 */
export class PdfName {
  constructor(readonly name: string) {}
}

export class PdfString {
  /** start/end are file offsets of the whole token (delimiters included), -1 when not read from the file itself. */
  constructor(readonly bytes: Uint8Array, readonly start: number, readonly end: number, readonly hex: boolean) {}
}

export class PdfRef {
  constructor(readonly num: number, readonly gen: number) {}
}

export class PdfDict {
  constructor(readonly entries: Map<string, PdfValue> = new Map(), readonly duplicateKeys: string[] = []) {}
  get(key: string): PdfValue | undefined {
    const value = this.entries.get(key)
    return value === null ? undefined : value
  }
}

export class PdfStream {
  /** data is the raw (still encoded) stream body. */
  constructor(readonly dict: PdfDict, readonly data: Uint8Array) {}
}

export type PdfValue = null | boolean | number | PdfName | PdfString | PdfRef | PdfDict | PdfStream | PdfValue[]

export interface IndirectObject {
  num: number
  gen: number
  value: PdfValue
  end: number
}

const MAX_DEPTH = 64
const KEYWORD_VALUES: [string, PdfValue][] = [['true', true], ['false', false], ['null', null]]
const enc = new TextEncoder()

const WS = new Uint8Array(256)
for (const c of [0, 9, 10, 12, 13, 32]) WS[c] = 1
const DELIM = new Uint8Array(256)
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1

export const isWhitespace = (c: number | undefined) => c !== undefined && WS[c] === 1
const isRegular = (c: number | undefined) => c !== undefined && WS[c] === 0 && DELIM[c] === 0
const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

export function bytesToLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = ''
  for (let i = start; i < end; i += 0x4000) out += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 0x4000)))
  return out
}

export function latin1ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff
  return out
}

export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0, to = haystack.length): number {
  const first = needle[0]
  const last = to - needle.length
  for (let i = haystack.indexOf(first as number, from); i !== -1 && i <= last; i = haystack.indexOf(first as number, i + 1)) {
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return i
  }
  return -1
}

/**
 * Reads PDF tokens and objects from a byte array. `fileOffsets` says whether positions in these
 * bytes are positions in the file (false for the body of an object stream).
 */
export class PdfLexer {
  pos: number
  constructor(readonly bytes: Uint8Array, pos = 0, private readonly fileOffsets = true) {
    this.pos = pos
  }

  fail(message: string): never {
    throw new PdfFormatError(`${message} at byte ${this.pos}`)
  }

  skipWhitespace(): void {
    const b = this.bytes
    for (;;) {
      const c = b[this.pos]
      if (c === undefined) return
      if (WS[c] === 1) this.pos++
      else if (c === 37) {
        while (this.pos < b.length && b[this.pos] !== 10 && b[this.pos] !== 13) this.pos++
      } else return
    }
  }

  peekKeyword(): string {
    this.skipWhitespace()
    let end = this.pos
    while (end - this.pos < 16 && isRegular(this.bytes[end])) end++
    return bytesToLatin1(this.bytes, this.pos, end)
  }

  /** Whether the next token is exactly `keyword`, without allocating. */
  atKeyword(keyword: string): boolean {
    this.skipWhitespace()
    for (let i = 0; i < keyword.length; i++) if (this.bytes[this.pos + i] !== keyword.charCodeAt(i)) return false
    return !isRegular(this.bytes[this.pos + keyword.length])
  }

  expectKeyword(keyword: string): void {
    if (!this.atKeyword(keyword)) this.fail(`expected "${keyword}"`)
    this.pos += keyword.length
  }

  readInteger(): number {
    this.skipWhitespace()
    const start = this.pos
    let value = 0
    while (isDigit(this.bytes[this.pos])) value = value * 10 + ((this.bytes[this.pos++] as number) - 48)
    if (this.pos === start || this.pos - start > 15 || isRegular(this.bytes[this.pos])) {
      this.pos = start
      this.fail('expected an integer')
    }
    return value
  }

  parseValue(depth = 0): PdfValue {
    if (depth > MAX_DEPTH) this.fail('objects nested too deeply')
    this.skipWhitespace()
    const c = this.bytes[this.pos]
    if (c === undefined) this.fail('unexpected end of data')
    switch (c) {
      case 47:
        return this.parseName()
      case 40:
        return this.parseLiteralString()
      case 60:
        return this.bytes[this.pos + 1] === 60 ? this.parseDict(depth) : this.parseHexString()
      case 91: {
        this.pos++
        const items: PdfValue[] = []
        for (;;) {
          this.skipWhitespace()
          if (this.bytes[this.pos] === 93) {
            this.pos++
            return items
          }
          items.push(this.parseValue(depth + 1))
        }
      }
      default:
        if (isDigit(c) || c === 43 || c === 45 || c === 46) return this.parseNumberOrRef()
        return this.parseKeywordValue()
    }
  }

  parseDict(depth: number): PdfDict {
    this.pos += 2
    const dict = new PdfDict()
    for (;;) {
      this.skipWhitespace()
      if (this.bytes[this.pos] === 62 && this.bytes[this.pos + 1] === 62) {
        this.pos += 2
        return dict
      }
      if (this.bytes[this.pos] !== 47) this.fail('expected a name as dictionary key')
      const key = this.parseName().name
      const value = this.parseValue(depth + 1)
      if (dict.entries.has(key)) dict.duplicateKeys.push(key)
      dict.entries.set(key, value)
    }
  }

  private parseName(): PdfName {
    this.pos++
    let out = ''
    while (isRegular(this.bytes[this.pos])) {
      const c = this.bytes[this.pos] as number
      if (c === 35) {
        const hi = hexValue(this.bytes[this.pos + 1] ?? 0)
        const lo = hexValue(this.bytes[this.pos + 2] ?? 0)
        if (hi < 0 || lo < 0) this.fail('bad #xx escape in name')
        out += String.fromCharCode(hi * 16 + lo)
        this.pos += 3
      } else {
        out += String.fromCharCode(c)
        this.pos++
      }
    }
    return new PdfName(out)
  }

  private parseLiteralString(): PdfString {
    const b = this.bytes
    const start = this.pos++
    const out: number[] = []
    let depth = 1
    for (;;) {
      const c = b[this.pos++]
      if (c === undefined) this.fail('unterminated string')
      if (c === 40) depth++
      else if (c === 41 && --depth === 0) break
      if (c !== 92) {
        out.push(c)
        continue
      }
      const e = b[this.pos++]
      if (e === undefined) this.fail('unterminated string')
      const simple: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 102: 12, 40: 40, 41: 41, 92: 92 }
      if (simple[e] !== undefined) out.push(simple[e] as number)
      else if (e >= 48 && e <= 55) {
        let v = e - 48
        for (let k = 0; k < 2 && (b[this.pos] ?? 0) >= 48 && (b[this.pos] ?? 0) <= 55; k++) v = v * 8 + ((b[this.pos++] as number) - 48)
        out.push(v & 0xff)
      } else if (e === 13) {
        if (b[this.pos] === 10) this.pos++
      } else if (e !== 10) out.push(e)
    }
    return new PdfString(Uint8Array.from(out), this.fileOffsets ? start : -1, this.fileOffsets ? this.pos : -1, false)
  }

  private parseHexString(): PdfString {
    const b = this.bytes
    const start = this.pos++
    const out = new Uint8Array(Math.max(0, (indexOfByte(b, 62, this.pos) - this.pos + 1) >> 1))
    let n = 0
    let hi = -1
    for (;;) {
      const c = b[this.pos++]
      if (c === undefined) this.fail('unterminated hex string')
      if (c === 62) break
      if (WS[c] === 1) continue
      const v = hexValue(c)
      if (v < 0) this.fail('bad character in hex string')
      if (hi < 0) hi = v
      else {
        out[n++] = hi * 16 + v
        hi = -1
      }
    }
    if (hi >= 0) out[n++] = hi * 16
    return new PdfString(out.subarray(0, n), this.fileOffsets ? start : -1, this.fileOffsets ? this.pos : -1, true)
  }

  private parseNumberOrRef(): number | PdfRef {
    const b = this.bytes
    const start = this.pos
    if (b[this.pos] === 43 || b[this.pos] === 45) this.pos++
    let digits = 0
    let dot = false
    for (;;) {
      const c = b[this.pos]
      if (isDigit(c)) digits++
      else if (c === 46 && !dot) dot = true
      else break
      this.pos++
    }
    if (digits === 0 || isRegular(b[this.pos])) {
      this.pos = start
      this.fail('malformed number')
    }
    if (dot || !isDigit(b[start])) {
      const value = Number(bytesToLatin1(b, start, this.pos))
      if (!Number.isFinite(value)) this.fail('malformed number')
      return value
    }
    let value = 0
    for (let i = start; i < this.pos; i++) value = value * 10 + ((b[i] as number) - 48)
    if (!Number.isSafeInteger(value)) return value
    const save = this.pos
    this.skipWhitespace()
    const genStart = this.pos
    let gen = 0
    while (isDigit(b[this.pos])) gen = gen * 10 + ((b[this.pos++] as number) - 48)
    if (this.pos > genStart && this.pos - genStart <= 5) {
      this.skipWhitespace()
      if (b[this.pos] === 82 && !isRegular(b[this.pos + 1])) {
        this.pos++
        return new PdfRef(value, gen)
      }
    }
    this.pos = save
    return value
  }

  private parseKeywordValue(): PdfValue {
    for (const [word, value] of KEYWORD_VALUES) {
      if (this.atKeyword(word)) {
        this.pos += word.length
        return value
      }
    }
    const word = this.peekKeyword()
    return this.fail(word ? `unexpected keyword "${word}"` : 'unexpected character')
  }

  /**
   * Reads `num gen obj … endobj` at the current position. A stream's /Length may be indirect,
   * so the caller resolves it; a /Length that does not land on `endstream` is a format failure.
   */
  parseIndirectObject(resolveLength: (value: PdfValue) => number | undefined): IndirectObject {
    const num = this.readInteger()
    const gen = this.readInteger()
    this.expectKeyword('obj')
    let value = this.parseValue()
    if (value instanceof PdfDict && this.atKeyword('stream')) {
      this.pos += 6
      if (this.bytes[this.pos] === 13) this.pos++
      if (this.bytes[this.pos] === 10) this.pos++
      const length = resolveLength(value.get('Length') ?? null)
      if (length === undefined || !Number.isInteger(length) || length < 0 || this.pos + length > this.bytes.length) this.fail('stream /Length is missing or out of range')
      const dataStart = this.pos
      this.pos += length
      this.expectKeyword('endstream')
      value = new PdfStream(value, this.bytes.subarray(dataStart, dataStart + length))
    }
    this.expectKeyword('endobj')
    return { num, gen, value, end: this.pos }
  }
}

function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  const i = bytes.indexOf(byte, from)
  return i === -1 ? bytes.length : i
}

export const nameOf = (value: PdfValue | undefined): string | undefined => (value instanceof PdfName ? value.name : undefined)

/** Text strings are PDFDocEncoding or UTF-16 with a byte order mark (§7.9.2.2). */
export function decodeTextString(value: PdfValue | undefined): string | undefined {
  if (!(value instanceof PdfString)) return undefined
  const b = value.bytes
  if (b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b.subarray(2))
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return new TextDecoder().decode(b.subarray(3))
  return bytesToLatin1(b)
}

export function encodeTextString(text: string): PdfString {
  if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(latin1ToBytes(text), -1, -1, false)
  const out = [0xfe, 0xff]
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    out.push(unit >> 8, unit & 0xff)
  }
  return new PdfString(Uint8Array.from(out), -1, -1, true)
}

/** Structural equality as a reader sees it: refs by number, streams by dictionary and raw bytes. */
export function pdfEquals(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? null) === (b ?? null)
  if (typeof a !== 'object' || typeof b !== 'object') return false
  if (a instanceof PdfName) return b instanceof PdfName && a.name === b.name
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen
  if (a instanceof PdfString) return b instanceof PdfString && bytesEqual(a.bytes, b.bytes)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => pdfEquals(item, b[i], depth + 1))
  if (a instanceof PdfStream) return b instanceof PdfStream && bytesEqual(a.data, b.data) && pdfEquals(withoutLength(a.dict), withoutLength(b.dict), depth + 1)
  if (a instanceof PdfDict) {
    if (!(b instanceof PdfDict)) return false
    const keys = new Set([...a.entries.keys(), ...b.entries.keys()])
    for (const key of keys) if (!pdfEquals(a.get(key), b.get(key), depth + 1)) return false
    return true
  }
  return false
}

function withoutLength(dict: PdfDict): PdfDict {
  const entries = new Map(dict.entries)
  entries.delete('Length')
  return new PdfDict(entries)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function serializeNumber(n: number): string {
  if (Number.isInteger(n)) return String(n)
  const text = String(n)
  return text.includes('e') ? n.toFixed(20).replace(/0+$/, '') : text
}

function serializeName(name: string): string {
  let out = '/'
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    out += c > 0x20 && c < 0x7f && c !== 35 && DELIM[c] === 0 ? name[i] : '#' + c.toString(16).padStart(2, '0')
  }
  return out
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** Serialises a value; `renumber` maps object numbers when objects move between documents. */
export function serializeValue(value: PdfValue, renumber?: (num: number) => number): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'number') return serializeNumber(value)
  if (value instanceof PdfName) return serializeName(value.name)
  if (value instanceof PdfString) return `<${hex(value.bytes)}>`
  if (value instanceof PdfRef) return `${renumber ? renumber(value.num) : value.num} ${value.gen} R`
  if (Array.isArray(value)) return `[${value.map((v) => serializeValue(v, renumber)).join(' ')}]`
  if (value instanceof PdfDict) {
    let out = '<<'
    for (const [key, v] of value.entries) out += `${serializeName(key)} ${serializeValue(v, renumber)}`
    return out + '>>'
  }
  throw new PdfFormatError('a stream can only be serialised as an indirect object')
}

export function serializeIndirectObject(num: number, value: PdfValue, renumber?: (num: number) => number): Uint8Array {
  if (!(value instanceof PdfStream)) return enc.encode(`${num} 0 obj\n${serializeValue(value, renumber)}\nendobj\n`)
  const dict = new PdfDict(new Map(value.dict.entries))
  dict.entries.set('Length', value.data.length)
  return concatBytes([latin1ToBytes(`${num} 0 obj\n${serializeValue(dict, renumber)}\nstream\n`), value.data, latin1ToBytes('\nendstream\nendobj\n')])
}


/**
 * Decodes a stream whose only filter is FlateDecode (or none), with PNG predictors: what
 * cross-reference and object streams use. The output is bounded so a deflate bomb fails fast.
 */
export function decodeStream(stream: PdfStream, maxBytes: number): Uint8Array {
  const filter = stream.dict.get('Filter')
  const filters = Array.isArray(filter) ? filter : filter === undefined ? [] : [filter]
  const names = filters.map(nameOf)
  if (names.some((n) => n !== 'FlateDecode') || names.length > 1) throw new PdfFormatError(`unsupported filter ${names.join(',')} on a structural stream`)
  let data = names.length === 1 ? inflateBounded(stream.data, maxBytes) : stream.data
  const params = stream.dict.get('DecodeParms')
  const parms = Array.isArray(params) ? params[0] : params
  if (parms instanceof PdfDict) {
    const predictor = parms.get('Predictor')
    if (typeof predictor === 'number' && predictor >= 10) {
      const columns = parms.get('Columns')
      data = undoPngPredictor(data, typeof columns === 'number' ? columns : 1)
    } else if (predictor !== undefined && predictor !== 1) throw new PdfFormatError(`unsupported predictor ${String(predictor)}`)
  }
  return data
}

function inflateBounded(data: Uint8Array, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = []
  let total = 0
  const inflate = new Inflate()
  inflate.onData = (chunk: Uint8Array) => {
    total += chunk.length
    if (total > maxBytes) throw new PdfFormatError(`a structural stream inflates past ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  inflate.push(data, true)
  if (inflate.err) throw new PdfFormatError(`FlateDecode failed: ${inflate.msg}`)
  return concatBytes(chunks)
}

function undoPngPredictor(data: Uint8Array, columns: number): Uint8Array {
  if (!Number.isInteger(columns) || columns < 1 || columns > 64) throw new PdfFormatError('bad /Columns for PNG predictor')
  const rowLength = columns + 1
  const rows = Math.floor(data.length / rowLength)
  const out = new Uint8Array(rows * columns)
  for (let r = 0; r < rows; r++) {
    const type = data[r * rowLength] as number
    for (let i = 0; i < columns; i++) {
      const raw = data[r * rowLength + 1 + i] as number
      const left = i > 0 ? (out[r * columns + i - 1] as number) : 0
      const up = r > 0 ? (out[(r - 1) * columns + i] as number) : 0
      const upLeft = r > 0 && i > 0 ? (out[(r - 1) * columns + i - 1] as number) : 0
      let v: number
      switch (type) {
        case 0:
          v = raw
          break
        case 1:
          v = raw + left
          break
        case 2:
          v = raw + up
          break
        case 3:
          v = raw + ((left + up) >> 1)
          break
        case 4: {
          const p = left + up - upLeft
          const pa = Math.abs(p - left)
          const pb = Math.abs(p - up)
          const pc = Math.abs(p - upLeft)
          v = raw + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft)
          break
        }
        default:
          throw new PdfFormatError(`bad PNG predictor row type ${type}`)
      }
      out[r * columns + i] = v & 0xff
    }
  }
  return out
}
