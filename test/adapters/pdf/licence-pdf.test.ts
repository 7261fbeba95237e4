import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsQR from 'jsqr'
import { PDFDocument } from 'pdf-lib'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCjkFont } from '../../../src/adapters/pdf/cjk-font'
import { LicenceRenderError, licenceSealRect, renderLicencePdf, type LicencePdfInput } from '../../../src/adapters/pdf/licence-pdf'
import { withUsccCheck } from '../../../src/core/licence/uscc'

/*
 * Every assertion here reads the PDF back with an independent tool: poppler's pdftotext and
 * pdftoppm, tesseract for OCR, jsQR for the QR code. Text extraction alone proves nothing about
 * the glyphs (it reads the ToUnicode map), so the glyphs are proven by ink on the rendered page.
 */

const A4_HEIGHT = 841.89
const A4_WIDTH = 595.28
const HOLDER = '赣州市恒信科技有限公司'
const NUMBER = '1.2.156.3005.2.11100000000013338W001.11360700MB1234567R.3607000000000001.001.X'
const SCOPE_PARTS =
  '许可项目：食品销售；第二类增值电信业务；货物进出口；技术进出口。（依法须经批准的项目，经相关部门批准后方可开展经营活动）一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务；计算机系统服务；数据处理服务；人工智能应用软件开发；网络技术服务；物联网技术服务；电子产品销售；计算机软硬件及辅助设备零售；办公设备销售；通讯设备销售；会议及展览服务；企业管理咨询；市场营销策划；广告设计、代理；广告制作；广告发布；组织文化艺术交流活动；'

let font: Uint8Array
let work: string

/** A compact-JWS-shaped payload of the size a real licence credential has. */
function jwsLike(length: number): string {
  const b64 = (n: number) => randomBytes(n).toString('base64url')
  const header = b64(60)
  const signature = b64(64)
  return `${header}.${b64(Math.ceil(((length - header.length - signature.length - 2) * 3) / 4)).slice(0, length - header.length - signature.length - 2)}.${signature}`
}

function licence(overrides: Partial<LicencePdfInput> = {}): LicencePdfInput {
  return {
    typeName: '营业执照',
    number: NUMBER,
    holder: { kind: 'enterprise', uscc: withUsccCheck('91360700MA35K0QX2'), name: HOLDER },
    fields: [
      { label: '名称', value: HOLDER },
      { label: '类型', value: '有限责任公司（自然人投资或控股）' },
      { label: '法定代表人', value: '张三丰' },
      { label: '经营范围', value: '软件开发；信息系统集成服务；数据处理服务。' },
      { label: '注册资本', value: '伍佰万元整' },
      { label: '成立日期', value: '2026年11月01日' },
      { label: '住所', value: '江西省赣州市章贡区红旗大道86号' },
    ],
    validFrom: '2026-11-01',
    validUntil: '2046-10-31',
    issuer: { regionName: '赣州市', authorityName: '赣州市行政审批局' },
    issuedAt: '2026-11-01T02:30:00Z',
    qrPayload: jwsLike(880),
    verifyUrl: 'https://tongban.ganzhou.example.cn/verify',
    seal: { ownerName: '赣州市行政审批局', sealName: '行政审批专用章' },
    ...overrides,
  }
}

function save(pdf: Uint8Array): string {
  const file = join(work, `${randomBytes(6).toString('hex')}.pdf`)
  writeFileSync(file, pdf)
  return file
}

function text(pdf: Uint8Array): string {
  return execFileSync('pdftotext', ['-enc', 'UTF-8', save(pdf), '-'], { encoding: 'utf8' })
}

/**
 * The text in an area of each page (points from the top-left here, as pdftotext crops), so a
 * wrapped value reads as one run that labels, titles and the authority block cannot interleave.
 */
function areaText(pdf: Uint8Array, areas: Array<{ page: number; x: number; top: number; bottom: number }>): string {
  const file = save(pdf)
  let out = ''
  for (const { page, x, top, bottom } of areas) {
    const crop = ['-x', String(Math.floor(x)), '-y', String(Math.floor(top)), '-W', String(Math.ceil(A4_WIDTH - x))]
    crop.push('-H', String(Math.ceil(bottom - top)))
    out += execFileSync('pdftotext', ['-r', '72', ...crop, '-f', String(page), '-l', String(page), '-enc', 'UTF-8', file, '-'], {
      encoding: 'utf8',
    })
  }
  return out.replace(/\s+/g, '')
}

interface Area {
  x: number
  y: number
  width: number
  height: number
}

/** Renders one page (or an area of it, in PDF points from the bottom-left) to RGBA pixels. */
function rasterise(pdf: Uint8Array, dpi: number, area?: Area, page = 1): PNG {
  const out = join(work, randomBytes(6).toString('hex'))
  const args = ['-r', String(dpi), '-f', String(page), '-l', String(page), '-png', '-singlefile']
  if (area) {
    const px = (pt: number) => Math.round((pt * dpi) / 72)
    args.push('-x', String(px(area.x)), '-y', String(px(A4_HEIGHT - area.y - area.height)))
    args.push('-W', String(px(area.width)), '-H', String(px(area.height)))
  }
  execFileSync('pdftoppm', [...args, save(pdf), out])
  return PNG.sync.read(readFileSync(`${out}.png`))
}

function count(png: PNG, test: (r: number, g: number, b: number) => boolean): number {
  let n = 0
  for (let i = 0; i < png.data.length; i += 4) {
    if (test(png.data[i] as number, png.data[i + 1] as number, png.data[i + 2] as number)) n++
  }
  return n
}

/** Share of the pixels in `area` of a whole-page render at `dpi` that pass `test`. */
function shareIn(page: PNG, dpi: number, area: Area, test: (r: number, g: number, b: number) => boolean): number {
  const px = (pt: number) => Math.round((pt * dpi) / 72)
  const x0 = px(area.x)
  const x1 = px(area.x + area.width)
  const y0 = px(A4_HEIGHT - area.y - area.height)
  const y1 = px(A4_HEIGHT - area.y)
  let n = 0
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * page.width + x) * 4
      if (test(page.data[i] as number, page.data[i + 1] as number, page.data[i + 2] as number)) n++
    }
  }
  return n / ((x1 - x0) * (y1 - y0))
}

// Seal red is (230, 0, 18); the brown border and its anti-aliasing stay well outside this.
const isRed = (r: number, g: number, b: number) => r > 200 && g < 80 && b < 90
const isDark = (r: number, g: number, b: number) => r < 110 && g < 110 && b < 110

/** Every word pdftotext finds, with its box in points from the bottom-left. */
function words(pdf: Uint8Array, page = 1): Array<Area & { word: string }> {
  const html = execFileSync('pdftotext', ['-bbox', '-f', String(page), '-l', String(page), '-enc', 'UTF-8', save(pdf), '-'], {
    encoding: 'utf8',
  })
  return [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map(
    ([, xMin, yMin, xMax, yMax, word]) => ({
      word: word as string,
      x: Number(xMin),
      y: A4_HEIGHT - Number(yMax),
      width: Number(xMax) - Number(xMin),
      height: Number(yMax) - Number(yMin),
    }),
  )
}

function wordBox(pdf: Uint8Array, needle: string): Area {
  const found = words(pdf).find(({ word }) => word.includes(needle))
  if (!found) throw new Error(`no word containing ${needle}`)
  return found
}

function hasTesseractChinese(): boolean {
  try {
    return execFileSync('tesseract', ['--list-langs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('chi_sim')
  } catch {
    return false
  }
}

beforeAll(async () => {
  font = await loadCjkFont()
  work = mkdtempSync(join(tmpdir(), 'tongban-licence-pdf-'))
})

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('renderLicencePdf: a business licence', () => {
  let input: LicencePdfInput
  let pdf: Uint8Array

  beforeAll(async () => {
    input = licence()
    pdf = await renderLicencePdf(input, font)
  }, 30_000)

  it('is one A4 page, well under 1 MB, with the font embedded as a TrueType subset', async () => {
    const doc = await PDFDocument.load(pdf)
    expect(doc.getPageCount()).toBe(1)
    const { width, height } = doc.getPage(0).getSize()
    expect([width, height]).toEqual([A4_WIDTH, A4_HEIGHT])
    expect(pdf.length).toBeLessThan(1024 * 1024)
    const fonts = execFileSync('pdffonts', [save(pdf)], { encoding: 'utf8' }).trim().split('\n').slice(2)
    expect(fonts).toHaveLength(1)
    // name, type "CID TrueType", encoding Identity-H, then emb / sub / uni all "yes".
    expect(fonts[0]).toMatch(/^[A-Z]{6}\+NotoSerifSC-Regular\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/)
  })

  it('extracts the title, holder, credit code, licence number and authority as text', () => {
    const extracted = text(pdf)
    for (const expected of ['营业执照', HOLDER, withUsccCheck('91360700MA35K0QX2'), NUMBER, '赣州市行政审批局', '2026年11月01日', '登记机关', '法定代表人']) {
      expect(extracted).toContain(expected)
    }
    // Letter-spaced labels come out whole thanks to ActualText, not as 名 称.
    expect(extracted).toContain('名称')
  })

  it('draws ink in every character cell: no glyph is blank', () => {
    // @pdf-lib/fontkit's subsetter blanks some CJK glyphs (here it drew 赣州市, 技, 公司 and left
    // the rest empty) while pdftotext still extracts them all, so each character is checked.
    const page = rasterise(pdf, 150)
    for (const word of [HOLDER, '伍佰万元整', '张三丰']) {
      const box = wordBox(pdf, word)
      const chars = [...word]
      const cell = box.width / chars.length
      chars.forEach((char, i) => {
        const share = shareIn(page, 150, { x: box.x + i * cell, y: box.y, width: cell, height: box.height }, isDark)
        // A light glyph such as 丰 inks about 4% of its cell at 150 dpi; a blank one inks nothing.
        expect({ char, inked: share > 0.02 }).toEqual({ char, inked: true })
      })
    }
  })

  it.runIf(hasTesseractChinese())('reads back in Chinese by OCR (tesseract chi_sim)', () => {
    const png = join(work, 'ocr')
    execFileSync('pdftoppm', ['-r', '200', '-gray', '-png', '-singlefile', save(pdf), png])
    const ocr = execFileSync('tesseract', [`${png}.png`, '-', '-l', 'chi_sim'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const squeezed = ocr.replace(/\s+/g, '')
    // 赣 is rare enough that tesseract's model misreads it; the rest of the page is asserted.
    for (const expected of ['营业执照', '恒信科技有限公司', '有限责任公司', '法定代表人', '张三丰', '软件开发', '伍佰万元整', '登记机关']) {
      expect(squeezed).toContain(expected)
    }
  })

  it('shows the red seal at licenceSealRect', () => {
    const area = rasterise(pdf, 50, licenceSealRect)
    const share = count(area, isRed) / (area.width * area.height)
    expect(share).toBeGreaterThan(0.12)
    const outside = rasterise(pdf, 50, { x: 64, y: 300, width: 300, height: 300 })
    expect(count(outside, isRed)).toBe(0)
  })

  it('keeps the authority and date legible under the seal (the ink multiplies)', () => {
    const box = wordBox(pdf, '2026年11月01日')
    const under = rasterise(pdf, 100, box)
    expect(count(under, isDark)).toBeGreaterThan(50)
  })

  it('carries a QR code that decodes to exactly the credential', () => {
    const corner = rasterise(pdf, 300, { x: A4_WIDTH / 2, y: A4_HEIGHT - 300, width: A4_WIDTH / 2, height: 300 })
    const decoded = jsQR(new Uint8ClampedArray(corner.data), corner.width, corner.height)
    expect(decoded?.data).toBe(input.qrPayload)
  })

  it('prints the verify URL', () => {
    expect(text(pdf)).toContain('https://tongban.ganzhou.example.cn/verify')
  })

  it('renders the same input to the same bytes', async () => {
    const again = await renderLicencePdf(input, font)
    expect(Buffer.from(again).equals(Buffer.from(pdf))).toBe(true)
  })
})

describe('renderLicencePdf: layout', () => {
  it('wraps a 400-character 经营范围 inside the margins, keeping every character', async () => {
    const scope = (SCOPE_PARTS + SCOPE_PARTS).slice(0, 400)
    const input = licence({ fields: licence().fields.map((f) => (f.label === '经营范围' ? { ...f, value: scope } : f)) })
    const pdf = await renderLicencePdf(input, font)
    expect((await PDFDocument.load(pdf)).getPageCount()).toBe(1)
    const first = wordBox(pdf, scope.slice(0, 6))
    const top = A4_HEIGHT - first.y - first.height - 1
    const sealTop = A4_HEIGHT - licenceSealRect.y - licenceSealRect.height
    expect(areaText(pdf, [{ page: 1, x: first.x - 1, top, bottom: sealTop }])).toContain(scope)
    // No ink between the text block and the inner border on either side (the border is brown,
    // not dark, so any dark pixel there would be text that ran past its column).
    const rightBand = rasterise(pdf, 50, { x: A4_WIDTH - 58, y: 60, width: 22, height: A4_HEIGHT - 120 })
    const leftBand = rasterise(pdf, 50, { x: 36, y: 60, width: 24, height: A4_HEIGHT - 120 })
    expect(count(rightBand, isDark)).toBe(0)
    expect(count(leftBand, isDark)).toBe(0)
    const all = words(pdf)
    for (const { word, x, width } of all) {
      expect({ word, left: x >= 64 - 1, right: x + width <= A4_WIDTH - 64 + 8 }).toEqual({ word, left: true, right: true })
    }
    const scopeLines = all.filter(({ word }) => word.length > 4 && scope.includes(word))
    expect(new Set(scopeLines.map(({ y }) => Math.round(y))).size).toBeGreaterThanOrEqual(10)
  }, 30_000)

  it('breaks lines by the Chinese rules: no line starts with closing punctuation', async () => {
    // With these labels a plain per-character break puts a ； at the start of the fifth line.
    const input = licence({
      typeName: '食品经营许可证',
      fields: [
        { label: '单位名称', value: HOLDER },
        { label: '法定代表人（负责人）', value: '李明' },
        { label: '经营范围', value: SCOPE_PARTS },
        { label: '地址', value: '江西省赣州市章贡区文清路8号' },
      ],
    })
    const pdf = await renderLicencePdf(input, font)
    const scopeLines = words(pdf).filter(({ word }) => word.length > 4 && SCOPE_PARTS.includes(word))
    expect(scopeLines.length).toBeGreaterThan(6)
    for (const { word } of scopeLines) expect(word).not.toMatch(/^[，。、；：？！）》」』】]|[（《「『【]$/)
  }, 30_000)

  it('continues on further pages when the fields cannot fit on one', async () => {
    const scope = SCOPE_PARTS.repeat(8)
    const input = licence({ fields: licence().fields.map((f) => (f.label === '经营范围' ? { ...f, value: scope } : f)) })
    const pdf = await renderLicencePdf(input, font)
    const doc = await PDFDocument.load(pdf)
    expect(doc.getPageCount()).toBeGreaterThan(1)
    const first = wordBox(pdf, scope.slice(0, 6))
    const sealTop = A4_HEIGHT - licenceSealRect.y - licenceSealRect.height
    const areas = [{ page: 1, x: first.x - 1, top: A4_HEIGHT - first.y - first.height - 1, bottom: sealTop }]
    // Continuation pages: below their heading, above the page number.
    for (let page = 2; page <= doc.getPageCount(); page++) areas.push({ page, x: first.x - 1, top: 112, bottom: A4_HEIGHT - 60 })
    expect(areaText(pdf, areas)).toContain(scope)
    expect(text(pdf)).toContain('营业执照（续页 1）')
    expect(text(pdf).replace(/\s+/g, '')).toContain(`第1页共${doc.getPageCount()}页`)
    // The seal stays on the first page, where the signer expects it.
    expect(count(rasterise(pdf, 50, licenceSealRect, 1), isRed)).toBeGreaterThan(0)
    expect(count(rasterise(pdf, 50, undefined, 2), isRed)).toBe(0)
  }, 30_000)

  it('lays out other licence types with their name as title and every field', async () => {
    const input = licence({
      typeName: '公共场所卫生许可证',
      holder: { kind: 'person', idNumber: '36070219900101123X', name: '李明' },
      fields: [
        { label: '单位名称', value: '章贡区李明理发店' },
        { label: '法定代表人（负责人）', value: '李明' },
        { label: '地址', value: '江西省赣州市章贡区文清路8号' },
        { label: '许可项目', value: '理发店' },
      ],
      seal: { ownerName: '赣州市行政审批局' },
    })
    const pdf = await renderLicencePdf(input, font)
    const extracted = text(pdf)
    for (const expected of ['公共场所卫生许可证', '公民身份号码', '36070219900101123X', '单位名称', '章贡区李明理发店', '法定代表人（负责人）', '理发店', '发证机关']) {
      expect(extracted).toContain(expected)
    }
  }, 30_000)

  it('adds the holder name as a row when no field shows it', async () => {
    const pdf = await renderLicencePdf(licence({ fields: [{ label: '经营项目', value: '预包装食品销售' }] }), font)
    expect(text(pdf)).toContain(HOLDER)
  }, 30_000)

  it("leaves the seal area blank with sealPlacement 'none' for the signer to fill", async () => {
    const pdf = await renderLicencePdf(licence({ sealPlacement: 'none' }), font)
    expect(count(rasterise(pdf, 50, licenceSealRect), isRed)).toBe(0)
  }, 30_000)

  it('refuses characters the font cannot draw rather than printing empty boxes', async () => {
    const input = licence({ fields: [{ label: '名称', value: `${HOLDER}\u{1F600}` }] })
    const error = await renderLicencePdf(input, font).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LicenceRenderError)
    expect(error).toMatchObject({ code: 'licence_unrenderable', status: 422 })
  })

  it('refuses a date that is not ISO 8601, saying which', async () => {
    const error = await renderLicencePdf(licence({ validUntil: '2046/10/31' }), font).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LicenceRenderError)
    expect((error as LicenceRenderError).details[0]?.pointer).toBe('/validUntil')
  })

  it('prints the date of issue in China time', async () => {
    // 2026-10-31T20:00Z is already 1 November in Beijing.
    const fields = [{ label: '名称', value: HOLDER }]
    const pdf = await renderLicencePdf(licence({ fields, issuedAt: '2026-10-31T20:00:00Z', validFrom: '2026-11-02' }), font)
    expect(text(pdf)).toContain('2026年11月01日')
  }, 30_000)
})
