import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PDFDocument } from 'pdf-lib'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCjkFont } from '../../../src/adapters/pdf/cjk-font'
import { MM, drawSeal, renderSealSvg, sealOutlines } from '../../../src/adapters/pdf/seal-drawing'
import { InvalidUsccError, ValidationError } from '../../../src/core/errors'
import { withUsccCheck } from '../../../src/core/licence/uscc'
import { layoutSeal, type SealSpec } from '../../../src/core/seal/seal-appearance'

let font: Uint8Array
let work: string
const USCC = withUsccCheck('91360700MA35K0QX2')

const SPECS: Record<SealSpec['kind'], SealSpec> = {
  official: { kind: 'official', ownerName: '赣州市行政审批局', sealName: '行政审批专用章', serial: '3607000012345' },
  finance: { kind: 'finance', ownerName: '赣州市恒信科技有限公司' },
  invoice: { kind: 'invoice', ownerName: '赣州市恒信科技有限公司', uscc: USCC },
  contract: { kind: 'contract', ownerName: '深圳市龙岗区华南贸易有限公司' },
  legal_representative: { kind: 'legal_representative', ownerName: '张三丰' },
}

function hasRsvg(): boolean {
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const isRed = (r: number, g: number, b: number, a: number) => a > 128 && r > 200 && g < 90 && b < 100

function share(png: PNG, test: (r: number, g: number, b: number, a: number) => boolean): number {
  let n = 0
  for (let i = 0; i < png.data.length; i += 4) {
    if (test(png.data[i] as number, png.data[i + 1] as number, png.data[i + 2] as number, png.data[i + 3] as number)) n++
  }
  return n / (png.width * png.height)
}

beforeAll(async () => {
  font = await loadCjkFont()
  work = mkdtempSync(join(tmpdir(), 'tongban-seal-'))
})

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('renderSealSvg', () => {
  it.each(Object.values(SPECS))('draws a $kind seal as red paths only, no text', (spec) => {
    const svg = renderSealSvg(spec, font)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg).not.toMatch(/<text|<tspan|<use|<image|font-family/)
    expect(svg).toContain('fill="#E60012"')
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map(([, d]) => d as string)
    expect(paths.length).toBeGreaterThanOrEqual(2)
    for (const d of paths) expect(d).toMatch(/^M[\d.\- MLQCZ]+$/)
  })

  it('is sized in millimetres as the physical seal: 42 mm round, 40 × 30 mm oval, 20 mm square', () => {
    expect(renderSealSvg(SPECS.official, font)).toContain('width="42mm" height="42mm" viewBox="0 0 42 42"')
    expect(renderSealSvg(SPECS.invoice, font)).toContain('width="40mm" height="30mm" viewBox="0 0 40 30"')
    expect(renderSealSvg(SPECS.legal_representative, font)).toContain('width="20mm" height="20mm" viewBox="0 0 20 20"')
  })

  it('escapes the owner name in its accessible label', () => {
    const svg = renderSealSvg({ kind: 'official', ownerName: '甲&乙<公司>' }, font)
    expect(svg).toContain('aria-label="甲&#38;乙&#60;公司&#62;"')
  })

  it.runIf(hasRsvg())('renders (librsvg) to a red seal: border ring, clear just inside it', () => {
    const file = join(work, 'contract.svg')
    writeFileSync(file, renderSealSvg(SPECS.contract, font))
    execFileSync('rsvg-convert', ['--dpi-x', '300', '--dpi-y', '300', '-o', `${file}.png`, file])
    const png = PNG.sync.read(readFileSync(`${file}.png`))
    const mm = 300 / 25.4
    expect(Math.abs(png.width - 40 * mm)).toBeLessThan(1)
    expect(share(png, isRed)).toBeGreaterThan(0.1)
    // Down the middle at the bottom: the 1.2 mm border is ink, 2.5 mm up is bare paper.
    const alpha = (y: number) => png.data[(y * png.width + Math.floor(png.width / 2)) * 4 + 3] as number
    expect(alpha(png.height - Math.round(0.6 * mm))).toBeGreaterThan(128)
    expect(alpha(png.height - Math.round(2.5 * mm))).toBeLessThan(64)
  })
})

describe('seal geometry', () => {
  it('puts the owner name along the upper arc, left to right, tops outward', () => {
    const appearance = layoutSeal(SPECS.official)
    const name = appearance.glyphs.slice(0, [...'赣州市行政审批局'].length)
    expect(name.map((g) => g.char).join('')).toBe('赣州市行政审批局')
    const xs = name.map((g) => g.matrix[4])
    expect([...xs].sort((a, b) => a - b)).toEqual(xs)
    for (const { matrix } of name) {
      const [, , c, d, e, f] = matrix
      // The glyph's "up" (0, 1) in em space maps to (c, d); it must point away from the centre.
      const outward = c * (e - 21) + d * (f - 21)
      expect(outward).toBeGreaterThan(0)
    }
  })

  it('writes 法定代表人名章 in the traditional order, completing short names with 印 or 之印', () => {
    const chars = (ownerName: string) => layoutSeal({ kind: 'legal_representative', ownerName }).glyphs
    const three = chars('张三丰')
    expect(three.map((g) => g.char).join('')).toBe('张三丰印')
    // Right column first, top to bottom: 张 top-right, 三 bottom-right, 丰 top-left, 印 bottom-left.
    const [zhang, san, feng, yin] = three.map((g) => ({ x: g.matrix[4], y: g.matrix[5] }))
    expect(zhang!.x).toBeGreaterThan(feng!.x)
    expect(zhang!.y).toBeLessThan(san!.y)
    expect(feng!.y).toBeLessThan(yin!.y)
    expect(chars('李明').map((g) => g.char).join('')).toBe('李明之印')
    expect(chars('欧阳娜娜').map((g) => g.char).join('')).toBe('欧阳娜娜')
  })

  it('uses the customary seal name when none is given', () => {
    const names = (spec: SealSpec) => layoutSeal(spec).glyphs.map((g) => g.char).join('')
    expect(names(SPECS.contract)).toContain('合同专用章')
    expect(names(SPECS.finance)).toContain('财务专用章')
    expect(names(SPECS.invoice)).toContain('发票专用章')
    expect(names(SPECS.invoice)).toContain(USCC)
  })

  it('refuses an invoice seal without a valid credit code, and an empty name', () => {
    expect(() => layoutSeal({ kind: 'invoice', ownerName: '赣州市恒信科技有限公司' })).toThrow(ValidationError)
    expect(() => layoutSeal({ kind: 'invoice', ownerName: '赣州市恒信科技有限公司', uscc: '91360700MA35K0QX2A' })).toThrow(InvalidUsccError)
    const error = (() => {
      try {
        layoutSeal({ kind: 'official', ownerName: '  ' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toMatchObject({ code: 'invalid_seal_spec', details: [{ pointer: '/ownerName' }] })
  })

  it('refuses a character the font cannot draw', () => {
    expect(() => sealOutlines({ kind: 'official', ownerName: '赣州\u{1F600}' }, font)).toThrow(ValidationError)
  })
})

describe('drawSeal on a PDF page', () => {
  it('draws red vector ink at the rect and adds no text to the page', async () => {
    const doc = await PDFDocument.create()
    const page = doc.addPage([200, 200])
    drawSeal(page, SPECS.official, font, { x: 40, y: 40, width: 42 * MM, height: 42 * MM })
    const file = join(work, 'seal.pdf')
    writeFileSync(file, await doc.save())
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }).trim()).toBe('')
    expect(execFileSync('pdffonts', [file], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(2)
    execFileSync('pdftoppm', ['-r', '72', '-png', '-singlefile', file, join(work, 'seal')])
    const png = PNG.sync.read(readFileSync(join(work, 'seal.png')))
    const inside = new PNG({ width: 119, height: 119 })
    PNG.bitblt(png, inside, 40, 200 - 40 - 119, 119, 119, 0, 0)
    expect(share(inside, isRed)).toBeGreaterThan(0.12)
    expect(share(png, isRed)).toBeCloseTo((share(inside, isRed) * 119 * 119) / (200 * 200), 3)
  })
})
