import type { Font, PathCommand } from 'fontkit'
import { BlendMode, LineJoinStyle, popGraphicsState, pushGraphicsState, rgb, setLineJoin, type PDFPage } from 'pdf-lib'
import { ValidationError } from '../../core/errors'
import { layoutSeal, type Matrix, type SealSpec } from '../../core/seal/seal-appearance'
import { parseFont } from './fontkit-adapter'

/**
 * Turns the seal geometry into outlines. The seal's characters become glyph outlines rather than
 * text in both outputs: the seal is a picture, so its characters must not join the page's text
 * (pdftotext, copy and paste, search) nor need a font at the viewer, and the PDF and the SVG
 * then show exactly the same shapes.
 */

/** 印泥 red as seals are customarily specified (close to Pantone 485). */
export const SEAL_RED = { r: 230, g: 0, b: 18 } as const
/** In the SVG only: the PDF seal is opaque ink multiplied onto the page instead. */
const SVG_OPACITY = 0.9
/** Stroke added around each character, in ems of that character. */
const EMBOLDEN = 0.035

export interface SealOutlines {
  /** Size of the seal in mm. */
  width: number
  height: number
  /** Borders and the star: filled paths in SVG syntax, in mm from the top-left corner. */
  shapes: string[]
  /**
   * Characters, one path per size: filled and stroked with `stroke` mm of the same red, because
   * carved seal characters are much heavier than a Regular text face and one font file serves both.
   */
  glyphs: Array<{ d: string; stroke: number }>
}

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

/** Most recently used outlines per font: a bureau stamps the same seal on every licence. */
const outlineCache = new WeakMap<Uint8Array, Map<string, SealOutlines>>()
const OUTLINE_CACHE_SIZE = 64

export function sealOutlines(spec: SealSpec, fontBytes: Uint8Array): SealOutlines {
  let cache = outlineCache.get(fontBytes)
  if (!cache) {
    cache = new Map()
    outlineCache.set(fontBytes, cache)
  }
  const key = JSON.stringify([spec.kind, spec.ownerName, spec.sealName, spec.uscc, spec.serial])
  const cached = cache.get(key)
  if (cached) {
    cache.delete(key)
    cache.set(key, cached)
    return cached
  }
  const outlines = computeOutlines(spec, fontBytes)
  cache.set(key, outlines)
  if (cache.size > OUTLINE_CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  return outlines
}

function computeOutlines(spec: SealSpec, fontBytes: Uint8Array): SealOutlines {
  const font = parseFont(fontBytes)
  const advanceOf = (char: string) => glyphFor(font, char).advanceWidth / font.unitsPerEm
  const appearance = layoutSeal(spec, advanceOf)
  const emCentre = emBoxCentre(font)
  // Characters of one size share a stroke width, so each size becomes one path.
  const bySize = new Map<string, string>()
  for (const { char, matrix } of appearance.glyphs) {
    const glyph = glyphFor(font, char)
    const stroke = num(Math.hypot(matrix[2], matrix[3]) * EMBOLDEN)
    const d = outline(glyph.path.commands, matrix, glyph.advanceWidth / 2, emCentre, font.unitsPerEm)
    bySize.set(stroke, (bySize.get(stroke) ?? '') + d)
  }
  const glyphs = [...bySize].filter(([, d]) => d !== '').map(([stroke, d]) => ({ d, stroke: Number(stroke) }))
  return { width: appearance.width, height: appearance.height, shapes: appearance.shapes, glyphs }
}

/**
 * The seal as a standalone SVG image (for `GET /v1/seals/{id}/image`), sized in millimetres so it
 * prints at the physical size of the seal; it contains only filled paths.
 */
export function renderSealSvg(spec: SealSpec, fontBytes: Uint8Array): string {
  const { width, height, shapes, glyphs } = sealOutlines(spec, fontBytes)
  const red = `#${[SEAL_RED.r, SEAL_RED.g, SEAL_RED.b].map((v) => v.toString(16).padStart(2, '0')).join('').toUpperCase()}`
  const label = escapeXml(`${spec.ownerName}${spec.sealName ? ` ${spec.sealName}` : ''}`)
  // Group opacity, not fill-opacity: where a character's stroke overlaps its fill it must not darken.
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}mm" height="${height}mm" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}">` +
    `<title>${label}</title>` +
    `<g fill="${red}" stroke="${red}" stroke-linejoin="round" opacity="${SVG_OPACITY}">` +
    shapes.map((d) => `<path d="${d}" stroke="none"/>`).join('') +
    glyphs.map(({ d, stroke }) => `<path d="${d}" stroke-width="${stroke}"/>`).join('') +
    `</g></svg>`
  )
}

/**
 * Draws the seal centred in `rect` (PDF points), as large as fits. It multiplies with what is
 * underneath, as ink on paper does, so the authority's name and date stay legible through it.
 * Pass a rect of 42 mm (`42 * MM`) to print an official seal at its physical size.
 */
export function drawSeal(page: PDFPage, spec: SealSpec, fontBytes: Uint8Array, rect: Rect): void {
  const { width, height, shapes, glyphs } = sealOutlines(spec, fontBytes)
  const scale = Math.min(rect.width / width, rect.height / height)
  const x = rect.x + (rect.width - width * scale) / 2
  const top = rect.y + (rect.height + height * scale) / 2
  const color = rgb(SEAL_RED.r / 255, SEAL_RED.g / 255, SEAL_RED.b / 255)
  // Opaque ink multiplied onto the page: white paper turns red, black text stays black. A partly
  // transparent fill would also darken wherever a character's stroke overlaps its own fill.
  const ink = { x, y: top, scale, color, blendMode: BlendMode.Multiply }
  for (const d of shapes) page.drawSvgPath(d, ink)
  // Round joins keep the emboldening stroke from growing spikes at the serifs' sharp corners.
  page.pushOperators(pushGraphicsState(), setLineJoin(LineJoinStyle.Round))
  for (const { d, stroke } of glyphs) page.drawSvgPath(d, { ...ink, borderColor: color, borderWidth: stroke })
  page.pushOperators(popGraphicsState())
}

/** Millimetres to PDF points. */
export const MM = 72 / 25.4

function glyphFor(font: Font, char: string) {
  const glyph = font.glyphForCodePoint(char.codePointAt(0) as number)
  if (glyph.id === 0) {
    throw new ValidationError('invalid_seal_spec', `the seal font has no glyph for ${JSON.stringify(char)}`, [
      { message: `character ${JSON.stringify(char)} cannot be drawn on a seal` },
    ])
  }
  return glyph
}

/** Vertical centre of the ideographic em box, in font units (OS/2 typo metrics bound it in CJK fonts). */
function emBoxCentre(font: Font): number {
  const os2 = (font as Font & { 'OS/2': { typoAscender: number; typoDescender: number } })['OS/2']
  return (os2.typoAscender + os2.typoDescender) / 2
}

function outline(
  commands: PathCommand[],
  [a, b, c, d, e, f]: Matrix,
  centreX: number,
  centreY: number,
  unitsPerEm: number,
): string {
  const point = (x: number, y: number) => {
    const u = (x - centreX) / unitsPerEm
    const v = (y - centreY) / unitsPerEm
    return `${num(a * u + c * v + e)} ${num(b * u + d * v + f)}`
  }
  let out = ''
  for (const { command, args } of commands) {
    switch (command) {
      case 'moveTo':
        out += `M${point(args[0] as number, args[1] as number)}`
        break
      case 'lineTo':
        out += `L${point(args[0] as number, args[1] as number)}`
        break
      case 'quadraticCurveTo':
        out += `Q${point(args[0] as number, args[1] as number)} ${point(args[2] as number, args[3] as number)}`
        break
      case 'bezierCurveTo':
        out += `C${point(args[0] as number, args[1] as number)} ${point(args[2] as number, args[3] as number)} ${point(args[4] as number, args[5] as number)}`
        break
      case 'closePath':
        out += 'Z'
        break
    }
  }
  return out
}

function num(n: number): string {
  return (Math.round(n * 1000) / 1000).toString()
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.codePointAt(0)};`)
}
