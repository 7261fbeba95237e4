import {
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFString,
  PDFName,
  PDFOperator,
  PDFOperatorNames,
  PageSizes,
  TextRenderingMode,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  fill,
  rgb,
  setFillingColor,
  setLineWidth,
  setStrokingColor,
  setTextRenderingMode,
  type Color,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib'
import QRCode from 'qrcode'
import { TongbanError } from '../../core/errors'
import { pdfLibFontkit, parseFont } from './fontkit-adapter'
import { drawSeal, MM, type Rect } from './seal-drawing'

/**
 * The printable face of a licence: an A4 page laid out like the paper certificate, with every
 * character in an embedded subset of the CJK font whose bytes the caller passes in (so this
 * module runs wherever pdf-lib does), the bureau's seal drawn as vector ink over the authority
 * and date, and a QR code holding the credential for offline verification.
 */

export interface LicencePdfInput {
  typeName: string
  /** GB/T 36904 licence identifier. */
  number: string
  holder: { kind: 'enterprise'; uscc: string; name: string } | { kind: 'person'; idNumber: string; name: string }
  /** Already in display order, with Chinese labels. */
  fields: Array<{ label: string; value: string }>
  validFrom: string
  validUntil: string
  issuer: { regionName: string; authorityName: string }
  issuedAt: string
  /** Text encoded in the QR code (a compact JWS). */
  qrPayload: string
  verifyUrl: string
  seal: { ownerName: string; sealName?: string }
  /** 'none' when a signer will place a visible signature appearance at `licenceSealRect` itself. */
  sealPlacement?: 'drawn' | 'none'
}

/** The document information entry holding the QR code's text (covered by the PAdES signature). */
export const LICENCE_QR_INFO_KEY = 'TongbanLicenceQR'

export class LicenceRenderError extends TongbanError {
  readonly code = 'licence_unrenderable'
  readonly status = 422
}

const [PAGE_WIDTH, PAGE_HEIGHT] = PageSizes.A4 as [number, number]
const LEFT = 64
const RIGHT = PAGE_WIDTH - 64
const INK = rgb(0.1, 0.1, 0.1)
const MUTED = rgb(0.35, 0.35, 0.35)
const FRAME = rgb(0.58, 0.2, 0.13)

const AUTHORITY_CENTRE_X = 420
const AUTHORITY_BASELINE = 196
const SEAL_SIZE = 42 * MM

/**
 * Where the bureau's seal sits on page 1 (PDF points, origin bottom-left): a 42 mm square centred
 * on the authority's name and the date of issue, as on the paper certificate. A signer that
 * renders its own visible signature appearance puts it here and renders with sealPlacement 'none'.
 */
export const licenceSealRect: Readonly<Rect & { pageIndex: 0 }> = Object.freeze({
  pageIndex: 0,
  x: AUTHORITY_CENTRE_X - SEAL_SIZE / 2,
  y: AUTHORITY_BASELINE - 6 - SEAL_SIZE / 2,
  width: SEAL_SIZE,
  height: SEAL_SIZE,
})

// 42 mm: a module of a ~900-character credential stays about 0.33 mm, the least phones read well.
const QR_SIZE = 120
const QR_TOP = PAGE_HEIGHT - 56
const FIELDS_TOP = 548
const FIELDS_BOTTOM = 262
const CONTINUATION_TOP = PAGE_HEIGHT - 120
const CONTINUATION_BOTTOM = 96
const FIELD_SIZES = [12, 11.5, 11, 10.5, 10, 9.5, 9]

export async function renderLicencePdf(input: LicencePdfInput, fontBytes: Uint8Array): Promise<Uint8Array> {
  const issuedAt = chineseDate(input.issuedAt, '/issuedAt')
  const validity = `自 ${chineseDate(input.validFrom, '/validFrom')} 至 ${chineseDate(input.validUntil, '/validUntil')}`
  const fields = displayFields(input)
  assertDrawable(input, fields, fontBytes)

  const doc = await PDFDocument.create({ updateMetadata: false })
  doc.registerFontkit(pdfLibFontkit)
  const font = await doc.embedFont(fontBytes, { subset: true, customName: subsetName(input, fontBytes) })
  describe(doc, input)
  const pen = new Pen(doc, font)
  const isBusinessLicence = input.typeName === '营业执照'

  const page = pen.newPage()
  header(pen, page, input)
  title(pen, page, input.typeName)
  const rows = layoutFields(pen, fields)
  flowFields(pen, page, rows, input)
  authority(pen, page, isBusinessLicence ? '登记机关' : '发证机关', input.issuer.authorityName, issuedAt)
  footer(pen, page, validity, input.issuer)
  if (input.sealPlacement !== 'none') {
    drawSeal(page, { kind: 'official', ownerName: input.seal.ownerName, sealName: input.seal.sealName }, fontBytes, licenceSealRect)
  }
  return doc.save({ useObjectStreams: false })
}

/** Every field, led by the holder's name when the fields do not already show it. */
function displayFields(input: LicencePdfInput): Array<{ label: string; value: string }> {
  const fields = input.fields.map(({ label, value }) => ({ label: label.trim(), value: normalise(value) }))
  if (fields.some(({ value }) => value === input.holder.name.trim())) return fields
  const label = input.holder.kind === 'enterprise' ? '名称' : '姓名'
  return [{ label, value: input.holder.name.trim() }, ...fields]
}

function normalise(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(/[\t\f\v]/g, ' ').trim()
}

/** A missing glyph would print as an empty box on a legal document; refuse instead. */
function assertDrawable(input: LicencePdfInput, fields: Array<{ label: string; value: string }>, fontBytes: Uint8Array) {
  const font = parseFont(fontBytes)
  const texts = [
    input.typeName,
    input.number,
    input.holder.kind === 'enterprise' ? input.holder.uscc : input.holder.idNumber,
    input.issuer.authorityName,
    input.issuer.regionName,
    input.verifyUrl,
    input.seal.ownerName,
    input.seal.sealName ?? '',
    ...fields.flatMap(({ label, value }) => [label, value]),
  ]
  const missing = new Set<string>()
  for (const text of texts) {
    for (const char of text) {
      if (/\s/.test(char)) continue
      if (font.glyphForCodePoint(char.codePointAt(0) as number).id === 0) missing.add(char)
    }
  }
  if (missing.size > 0) {
    const chars = [...missing].join('')
    throw new LicenceRenderError(`the licence font has no glyph for ${JSON.stringify(chars)}`, {
      details: [{ message: `characters that cannot be printed: ${chars}` }],
    })
  }
}

/**
 * ISO 32000 names a subset font TAG+PostScriptName with a six-letter tag, which tells readers
 * and preflight tools that it is a subset. pdf-lib would append a random number instead; a tag
 * derived from the input keeps the output reproducible and differs between licences.
 */
function subsetName(input: LicencePdfInput, fontBytes: Uint8Array): string {
  let hash = 0x811c9dc5
  for (const char of JSON.stringify(input)) {
    hash = Math.imul(hash ^ (char.codePointAt(0) as number), 0x01000193) >>> 0
  }
  let tag = ''
  for (let i = 0; i < 6; i++) {
    tag += String.fromCharCode(65 + (hash % 26))
    hash = Math.floor(hash / 26)
  }
  return `${tag}+${parseFont(fontBytes).postscriptName}`
}

function describe(doc: PDFDocument, input: LicencePdfInput) {
  const issued = new Date(input.issuedAt)
  doc.setTitle(`${input.typeName} ${input.holder.name}`, { showInWindowTitleBar: true })
  doc.setSubject(input.number)
  doc.setAuthor(input.issuer.authorityName)
  doc.setCreator('tongban')
  doc.setProducer('tongban')
  doc.setLanguage('zh-CN')
  // Fixed dates keep the same licence rendering to the same bytes, whenever it is downloaded.
  doc.setCreationDate(issued)
  doc.setModificationDate(issued)
  // The QR payload again as text, so a verifier reads the embedded licence without decoding the image.
  doc.context.lookup(doc.context.trailerInfo.Info, PDFDict).set(PDFName.of(LICENCE_QR_INFO_KEY), PDFString.of(input.qrPayload))
}

/** Draws text with the embedded font, measuring per character (CJK lines break anywhere). */
class Pen {
  private readonly widths = new Map<string, number>()

  constructor(
    readonly doc: PDFDocument,
    readonly font: PDFFont,
  ) {}

  newPage(): PDFPage {
    const page = this.doc.addPage([PAGE_WIDTH, PAGE_HEIGHT])
    frame(page)
    return page
  }

  width(text: string, size: number): number {
    let total = 0
    for (const char of text) {
      let w = this.widths.get(char)
      if (w === undefined) {
        w = this.font.widthOfTextAtSize(char, 1)
        this.widths.set(char, w)
      }
      total += w
    }
    return total * size
  }

  text(page: PDFPage, text: string, x: number, y: number, size: number, options: TextOptions = {}) {
    const color = options.color ?? INK
    const spacing = options.spacing ?? 0
    page.pushOperators(pushGraphicsState())
    if (options.bold) {
      // Fill and stroke the outlines: a heavier title without embedding a second 15 MB weight.
      page.pushOperators(setTextRenderingMode(TextRenderingMode.FillAndOutline), setLineWidth(size * 0.028), setStrokingColor(color))
    }
    if (spacing === 0) {
      page.drawText(text, { x, y, size, font: this.font, color })
    } else {
      // Letter-spaced text is drawn a character at a time; ActualText lets text extraction,
      // search and screen readers see the word rather than characters separated by gaps.
      page.pushOperators(
        PDFOperator.of(PDFOperatorNames.BeginMarkedContentSequence, [
          PDFName.of('Span'),
          `<</ActualText ${PDFHexString.fromText(text).toString()}>>`,
        ]),
      )
      let cursor = x
      for (const char of text) {
        page.drawText(char, { x: cursor, y, size, font: this.font, color })
        cursor += this.width(char, size) + spacing
      }
      page.pushOperators(PDFOperator.of(PDFOperatorNames.EndMarkedContent))
    }
    page.pushOperators(popGraphicsState())
  }

  centred(page: PDFPage, text: string, centreX: number, y: number, size: number, options: TextOptions = {}) {
    const spacing = options.spacing ?? 0
    const width = this.width(text, size) + spacing * Math.max(0, [...text].length - 1)
    this.text(page, text, centreX - width / 2, y, size, options)
  }

  /**
   * Breaks text into lines no wider than `width`: CJK anywhere, Latin words kept whole. Following
   * the line-breaking rules of Chinese typesetting (禁则), no line starts with closing punctuation
   * nor ends with an opening bracket: the character before moves down with it instead.
   */
  wrap(text: string, width: number, size: number): string[] {
    const lines: string[] = []
    for (const paragraph of text.split('\n')) {
      let line: string[] = []
      let lineWidth = 0
      const breakAt = (cut: number) => {
        lines.push(line.slice(0, cut).join('').trimEnd())
        line = line.slice(cut)
        lineWidth = this.width(line.join(''), size)
      }
      for (const token of tokens(paragraph)) {
        const w = this.width(token, size)
        if (line.length > 0 && lineWidth + w > width) {
          if (/^\s+$/.test(token)) {
            breakAt(line.length)
            continue
          }
          breakAt(kinsokuCut(line, token))
        }
        if (w > width) {
          // A Latin run longer than the line: break it by character.
          for (const char of token) {
            const cw = this.width(char, size)
            if (line.length > 0 && lineWidth + cw > width) breakAt(line.length)
            line.push(char)
            lineWidth += cw
          }
          continue
        }
        line.push(token)
        lineWidth += w
      }
      lines.push(line.join('').trimEnd())
    }
    return lines
  }
}

interface TextOptions {
  color?: Color
  spacing?: number
  bold?: boolean
}

const CLOSING = /^[，。、；：？！）》」』】〕,.;:!?)\]%]$/
const OPENING = /^[（《「『【〔(\[]$/

/** How many of the line's tokens stay on it when `next` does not fit. */
function kinsokuCut(line: string[], next: string): number {
  let cut = line.length
  if (CLOSING.test(next)) {
    cut--
    while (cut > 0 && CLOSING.test(line[cut] as string)) cut--
  }
  while (cut > 0 && OPENING.test(line[cut - 1] as string)) cut--
  // A line of nothing but punctuation cannot follow the rules; break where it overflows.
  return cut > 0 ? cut : line.length
}

function tokens(paragraph: string): string[] {
  return paragraph.match(/[A-Za-z0-9@#&_\-+.:/=?%~]+|\s+|./gu) ?? []
}

function frame(page: PDFPage) {
  const outer = 24
  const inner = 31
  page.drawRectangle({
    x: outer,
    y: outer,
    width: PAGE_WIDTH - 2 * outer,
    height: PAGE_HEIGHT - 2 * outer,
    borderColor: FRAME,
    borderWidth: 2.6,
  })
  page.drawRectangle({
    x: inner,
    y: inner,
    width: PAGE_WIDTH - 2 * inner,
    height: PAGE_HEIGHT - 2 * inner,
    borderColor: FRAME,
    borderWidth: 0.7,
  })
  // Small diamonds at the inner corners, the plainest of the certificate border ornaments.
  for (const [x, y] of [
    [inner, inner],
    [PAGE_WIDTH - inner, inner],
    [inner, PAGE_HEIGHT - inner],
    [PAGE_WIDTH - inner, PAGE_HEIGHT - inner],
  ] as const) {
    page.drawSvgPath('M0 -5L5 0L0 5L-5 0Z', { x, y, color: FRAME })
  }
}

function header(pen: Pen, page: PDFPage, input: LicencePdfInput) {
  const idLabel = input.holder.kind === 'enterprise' ? '统一社会信用代码' : '公民身份号码'
  const idValue = input.holder.kind === 'enterprise' ? input.holder.uscc : input.holder.idNumber
  pen.text(page, idLabel, LEFT, PAGE_HEIGHT - 82, 10.5, { color: MUTED })
  pen.text(page, idValue, LEFT, PAGE_HEIGHT - 101, 14)
  pen.text(page, '证照编号', LEFT, PAGE_HEIGHT - 124, 8, { color: MUTED })
  const numberWidth = RIGHT - QR_SIZE - 24 - LEFT
  const numberSize = Math.min(7.5, (7.5 * numberWidth) / pen.width(input.number, 7.5))
  pen.text(page, input.number, LEFT, PAGE_HEIGHT - 136, numberSize, { color: MUTED })

  qrCode(page, input.qrPayload, RIGHT - QR_SIZE, QR_TOP - QR_SIZE, QR_SIZE)
  const qrCentre = RIGHT - QR_SIZE / 2
  pen.centred(page, '扫码核验', qrCentre, QR_TOP - QR_SIZE - 11, 8, { color: MUTED })
  const urlSize = Math.min(6.5, (6.5 * (QR_SIZE + 40)) / pen.width(input.verifyUrl, 6.5))
  const urlWidth = pen.width(input.verifyUrl, urlSize)
  pen.text(page, input.verifyUrl, Math.min(qrCentre - urlWidth / 2, RIGHT - urlWidth), QR_TOP - QR_SIZE - 21, urlSize, { color: MUTED })
}

/**
 * The QR code as filled rectangles, one per run of dark modules in a row: crisp at any zoom and
 * far smaller than an image. The 4-module quiet zone is left white around it.
 */
function qrCode(page: PDFPage, payload: string, x: number, y: number, size: number) {
  const { modules } = QRCode.create(payload, { errorCorrectionLevel: 'M' })
  const count = modules.size
  const module = size / (count + 8)
  const ops = [pushGraphicsState(), setFillingColor(rgb(0, 0, 0))]
  for (let row = 0; row < count; row++) {
    let col = 0
    while (col < count) {
      if (!modules.get(row, col)) {
        col++
        continue
      }
      const start = col
      while (col < count && modules.get(row, col)) col++
      ops.push(
        rectangle(
          x + (start + 4) * module,
          y + size - (row + 5) * module,
          // A hair of overlap so anti-aliasing leaves no seams between adjacent runs and rows.
          (col - start) * module + 0.02,
          module + 0.02,
        ),
      )
    }
  }
  ops.push(fill(), popGraphicsState())
  page.pushOperators(...ops)
}

function title(pen: Pen, page: PDFPage, typeName: string) {
  const chars = [...typeName].length
  const room = RIGHT - LEFT - 40
  let size = Math.min(44, room / chars)
  let spacing = chars <= 5 ? size * 0.5 : size * 0.12
  if (pen.width(typeName, size) + spacing * (chars - 1) > room) {
    spacing = 0
    size = Math.min(size, (size * room) / pen.width(typeName, size))
  }
  pen.centred(page, typeName, PAGE_WIDTH / 2, 592, size, { spacing, bold: true })
}

interface FieldRow {
  labelLines: string[]
  labelSize: number
  valueLines: string[]
  height: number
}

interface FieldLayout {
  size: number
  labelWidth: number
  rows: FieldRow[]
}

const LABEL_X = LEFT + 8

/** Shrinks the field text until every field fits on page 1, down to a readable minimum. */
function layoutFields(pen: Pen, fields: Array<{ label: string; value: string }>): FieldLayout {
  let layout: FieldLayout | undefined
  for (const size of FIELD_SIZES) {
    layout = layoutAt(pen, fields, size)
    const total = layout.rows.reduce((sum, row) => sum + row.height, 0)
    if (total <= FIELDS_TOP - FIELDS_BOTTOM) return layout
  }
  return layout as FieldLayout
}

function layoutAt(pen: Pen, fields: Array<{ label: string; value: string }>, size: number): FieldLayout {
  const widest = Math.max(0, ...fields.map(({ label }) => pen.width(label, size)))
  const labelWidth = Math.min(Math.max(widest, 4 * size), 7 * size)
  const valueWidth = RIGHT - 8 - (LABEL_X + labelWidth + 1.5 * size)
  const rows = fields.map(({ label, value }) => {
    const { labelLines, labelSize } = fitLabel(pen, label, labelWidth, size)
    const valueLines = pen.wrap(value === '' ? '—' : value, valueWidth, size)
    const lines = Math.max(labelLines.length, valueLines.length)
    return { labelLines, labelSize, valueLines, height: lines * lineHeight(size) + size * 0.7 }
  })
  return { size, labelWidth, rows }
}

/** A long label such as 法定代表人（负责人） is set smaller to stay on one line; only a very long one wraps. */
function fitLabel(pen: Pen, label: string, width: number, size: number): { labelLines: string[]; labelSize: number } {
  const natural = pen.width(label, size)
  if (natural <= width) return { labelLines: [label], labelSize: size }
  if (natural * 0.6 <= width) return { labelLines: [label], labelSize: (size * width) / natural }
  return { labelLines: pen.wrap(label, width, size), labelSize: size }
}

function lineHeight(size: number): number {
  return size * 1.62
}

/** Draws the rows from the top of the field area, continuing on further pages when needed. */
function flowFields(pen: Pen, first: PDFPage, layout: FieldLayout, input: LicencePdfInput) {
  const { size, labelWidth } = layout
  const valueX = LABEL_X + labelWidth + 1.5 * size
  let page = first
  let y = FIELDS_TOP
  let bottom = FIELDS_BOTTOM
  let pageNumber = 1
  const nextPage = () => {
    page = pen.newPage()
    pageNumber++
    pen.centred(page, `${input.typeName}（续页 ${pageNumber - 1}）`, PAGE_WIDTH / 2, PAGE_HEIGHT - 86, 16, { bold: true })
    pen.centred(page, `${input.holder.name}  证照编号 ${input.number}`, PAGE_WIDTH / 2, PAGE_HEIGHT - 104, 7, { color: MUTED })
    y = CONTINUATION_TOP
    bottom = CONTINUATION_BOTTOM
  }
  for (const row of layout.rows) {
    const lines = Math.max(row.labelLines.length, row.valueLines.length)
    for (let i = 0; i < lines; i++) {
      if (y - lineHeight(size) < bottom) nextPage()
      const baseline = y - size * 1.05
      const label = row.labelLines[i]
      if (label) drawLabel(pen, page, label, baseline, row.labelSize, labelWidth, row.labelLines.length === 1)
      const value = row.valueLines[i]
      if (value) pen.text(page, value, valueX, baseline, size)
      y -= lineHeight(size)
    }
    y -= size * 0.7
  }
  const pages = pen.doc.getPages()
  if (pages.length > 1) {
    pages.forEach((p, i) => pen.centred(p, `第${i + 1}页　共${pages.length}页`, PAGE_WIDTH / 2, 40, 7.5, { color: MUTED }))
  }
}

/** A one-line label is spread across the label column, as 名　　称 is on the paper certificate. */
function drawLabel(pen: Pen, page: PDFPage, label: string, baseline: number, size: number, width: number, spread: boolean) {
  const chars = [...label].length
  const natural = pen.width(label, size)
  const spacing = spread && chars > 1 && natural < width ? (width - natural) / (chars - 1) : 0
  pen.text(page, label, LABEL_X, baseline, size, { spacing })
}

function authority(pen: Pen, page: PDFPage, label: string, authorityName: string, issuedAt: string) {
  const nameSize = Math.min(14, (14 * 200) / pen.width(authorityName, 14))
  pen.text(page, label, AUTHORITY_CENTRE_X - 190, AUTHORITY_BASELINE - 12, 15, { spacing: 4, bold: true })
  pen.centred(page, authorityName, AUTHORITY_CENTRE_X, AUTHORITY_BASELINE, nameSize)
  pen.centred(page, issuedAt, AUTHORITY_CENTRE_X, AUTHORITY_BASELINE - 24, 13)
}

function footer(pen: Pen, page: PDFPage, validity: string, issuer: LicencePdfInput['issuer']) {
  pen.text(page, '有效期限', LEFT, 92, 10, { color: MUTED })
  pen.text(page, validity, LEFT + 52, 92, 10)
  const note = `本电子证照由${issuer.authorityName}签发并加盖电子印章，与纸质证照具有同等法律效力；扫描二维码即可离线核验。`
  pen.wrap(note, RIGHT - LEFT, 7.5).forEach((line, i) => pen.text(page, line, LEFT, 68 - i * 11, 7.5, { color: MUTED }))
}

/** YYYY年MM月DD日, the date in China (UTC+8) for a timestamp, as given for a plain date. */
function chineseDate(iso: string, pointer: string): string {
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso)
  if (plain) return `${plain[1]}年${plain[2]}月${plain[3]}日`
  const time = Date.parse(iso)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(iso) || Number.isNaN(time)) {
    throw new LicenceRenderError(`${pointer.slice(1)} is not an ISO 8601 date: ${JSON.stringify(iso)}`, {
      details: [{ pointer, message: 'expected an ISO 8601 date or date-time' }],
    })
  }
  const china = new Date(time + 8 * 3600_000)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${china.getUTCFullYear()}年${pad(china.getUTCMonth() + 1)}月${pad(china.getUTCDate())}日`
}
