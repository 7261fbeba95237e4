import * as fontkit from 'fontkit'
import type { Font, Glyph } from 'fontkit'
import { describe, expect, it } from 'vitest'
import { loadCjkFont } from '../../../src/adapters/pdf/cjk-font'
import { FontParseError, parseFont, pdfLibFontkit } from '../../../src/adapters/pdf/fontkit-adapter'

// Characters @pdf-lib/fontkit's subsetter leaves blank (seen on this font), among common ones.
const TEXT = '赣州市恒信科技有限公司营业执照统一社会信用代码经营范围（）；，。0123456789ABCXYZ'

/** Runs the subset exactly as pdf-lib does: includeGlyph per laid-out glyph, then encodeStream. */
async function subsetThroughAdapter(bytes: Uint8Array, text: string): Promise<{ subset: Uint8Array; ids: number[] }> {
  const font = pdfLibFontkit.create(bytes)
  const subset = font.createSubset()
  const ids = font.layout(text).glyphs.map((glyph) => subset.includeGlyph(glyph))
  const parts: Uint8Array[] = []
  await new Promise<void>((resolve) => {
    subset
      .encodeStream()
      .on('data', (chunk: Uint8Array) => parts.push(chunk))
      .on('end', () => resolve())
  })
  return { subset: Buffer.concat(parts), ids }
}

function outline(glyph: Glyph) {
  return { commands: glyph.path.commands.length, advance: glyph.advanceWidth, bbox: { ...glyph.path.bbox } }
}

describe('loadCjkFont', () => {
  it('reads the npm package font once: the same bytes every call', async () => {
    const a = await loadCjkFont()
    const b = await loadCjkFont()
    expect(a).toBe(b)
    expect(a.length).toBeGreaterThan(10_000_000)
  })

  it('is Noto Serif SC with TrueType outlines, parsed once per byte array', async () => {
    const bytes = await loadCjkFont()
    const font = parseFont(bytes)
    expect(font.postscriptName).toBe('NotoSerifSC-Regular')
    expect(parseFont(bytes)).toBe(font)
    for (const char of TEXT) expect({ char, id: font.glyphForCodePoint(char.codePointAt(0) as number).id > 0 }).toEqual({ char, id: true })
  })
})

describe('pdfLibFontkit (fontkit 2 behind the interface pdf-lib expects)', () => {
  it('subsets with every outline intact', async () => {
    const bytes = await loadCjkFont()
    const original = parseFont(bytes)
    const { subset, ids } = await subsetThroughAdapter(bytes, TEXT)
    expect(subset.length).toBeLessThan(60_000)
    const reparsed = fontkit.create(Buffer.from(subset)) as Font
    expect(reparsed.numGlyphs).toBe(new Set(ids).size + 1)
    const expected = original.layout(TEXT).glyphs
    ids.forEach((id, i) => {
      const char = [...TEXT][i]
      const before = expected[i] as Glyph
      expect(before.path.commands.length).toBeGreaterThan(0)
      expect({ char, ...outline(reparsed.getGlyph(id)) }).toEqual({ char, ...outline(before) })
    })
  })

  it('calls through to the one parsed font rather than a copy', async () => {
    const bytes = await loadCjkFont()
    const view = pdfLibFontkit.create(bytes)
    expect(view.unitsPerEm).toBe(1000)
    expect(view.layout('营业').glyphs.map((g) => g.id)).toEqual(parseFont(bytes).layout('营业').glyphs.map((g) => g.id))
  })

  it('refuses bytes that are not a font', () => {
    expect(() => parseFont(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(FontParseError)
  })
})
