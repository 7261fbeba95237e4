import { ValidationError } from '../errors'
import { assertUscc } from '../licence/uscc'

/**
 * The picture of an electronic seal, as pure geometry: shapes and character placements in
 * millimetres, independent of any font engine or output format. Sizes follow the customary
 * physical seals (GA 241-2000 for official seals; the tax administration's rules for 发票专用章:
 * oval 40 × 30 mm, 1 mm border, the taxpayer's name along the top, the taxpayer number across
 * the middle, 发票专用章 below), so a printed licence shows the seal at its real size.
 */

export type SealKind = 'official' | 'finance' | 'invoice' | 'contract' | 'legal_representative'

export interface SealSpec {
  kind: SealKind
  ownerName: string
  sealName?: string
  uscc?: string
  serial?: string
}

/** Affine map [a, b, c, d, e, f]: X = a·u + c·v + e, Y = b·u + d·v + f. */
export type Matrix = readonly [number, number, number, number, number, number]

/**
 * One character of the seal. `matrix` maps em coordinates of the glyph — u from the centre of its
 * advance, v from the centre of its em box, both in ems with v pointing up — to the seal box,
 * whose origin is the top-left corner with Y pointing down (SVG convention, mm).
 */
export interface PlacedGlyph {
  char: string
  matrix: Matrix
}

export interface SealAppearance {
  /** Size of the seal box in mm. */
  width: number
  height: number
  /** Filled outlines in SVG path syntax, in the seal box (nonzero fill rule). */
  shapes: string[]
  glyphs: PlacedGlyph[]
}

/** Horizontal advance of a character in ems; lets digits and Latin letters take their real width. */
export type AdvanceOf = (char: string) => number

const CUSTOMARY_SEAL_NAMES: Partial<Record<SealKind, string>> = {
  finance: '财务专用章',
  invoice: '发票专用章',
  contract: '合同专用章',
}

const MAX_OWNER_NAME = 40

export function layoutSeal(spec: SealSpec, advanceOf: AdvanceOf = () => 1): SealAppearance {
  const ownerName = [...spec.ownerName.trim()]
  if (ownerName.length === 0) throw invalid('/ownerName', 'a seal needs its owner’s name')
  if (ownerName.length > MAX_OWNER_NAME) {
    throw invalid('/ownerName', `a seal can carry at most ${MAX_OWNER_NAME} characters of name, this one has ${ownerName.length}`)
  }
  const sealName = [...(spec.sealName ?? CUSTOMARY_SEAL_NAMES[spec.kind] ?? '').trim()]
  const serial = [...(spec.serial ?? '').trim()]
  if (serial.length > 20) throw invalid('/serial', 'a seal serial has at most 20 characters')
  switch (spec.kind) {
    case 'official':
      return roundSeal({ diameter: 42, ownerName, sealName, serial, advanceOf })
    case 'contract':
      return roundSeal({ diameter: 40, ownerName, sealName, serial, advanceOf })
    case 'finance':
      return ovalSeal({ ownerName, middle: [], bottom: sealName, serial, advanceOf })
    case 'invoice': {
      if (!spec.uscc) throw invalid('/uscc', 'a 发票专用章 carries the taxpayer’s 统一社会信用代码')
      assertUscc(spec.uscc)
      return ovalSeal({ ownerName, middle: [...spec.uscc], bottom: sealName, serial, advanceOf })
    }
    case 'legal_representative':
      return nameSeal(ownerName)
  }
}

function invalid(pointer: string, message: string): ValidationError {
  return new ValidationError('invalid_seal_spec', message, [{ pointer, message }])
}

interface Canvas {
  width: number
  height: number
  shapes: string[]
  glyphs: PlacedGlyph[]
}

function canvas(width: number, height: number): Canvas {
  return { width, height, shapes: [], glyphs: [] }
}

/** Places a character whose em-box centre is at (x, y) (mm, y up, origin at the seal centre). */
function place(c: Canvas, char: string, x: number, y: number, rotation: number, size: number, scaleX: number) {
  const cos = Math.cos(rotation)
  const sin = Math.sin(rotation)
  c.glyphs.push({
    char,
    matrix: [size * scaleX * cos, -size * scaleX * sin, -size * sin, -size * cos, c.width / 2 + x, c.height / 2 - y],
  })
}

const KAPPA = 0.5522847498

/** An ellipse as four cubic Béziers, clockwise on screen unless `reverse`. */
function ellipsePath(c: Canvas, rx: number, ry: number, reverse: boolean): string {
  const cx = c.width / 2
  const cy = c.height / 2
  const kx = rx * KAPPA
  const ky = ry * KAPPA
  if (!reverse) {
    return (
      `M${f(cx)} ${f(cy - ry)}` +
      `C${f(cx + kx)} ${f(cy - ry)} ${f(cx + rx)} ${f(cy - ky)} ${f(cx + rx)} ${f(cy)}` +
      `C${f(cx + rx)} ${f(cy + ky)} ${f(cx + kx)} ${f(cy + ry)} ${f(cx)} ${f(cy + ry)}` +
      `C${f(cx - kx)} ${f(cy + ry)} ${f(cx - rx)} ${f(cy + ky)} ${f(cx - rx)} ${f(cy)}` +
      `C${f(cx - rx)} ${f(cy - ky)} ${f(cx - kx)} ${f(cy - ry)} ${f(cx)} ${f(cy - ry)}Z`
    )
  }
  return (
    `M${f(cx)} ${f(cy - ry)}` +
    `C${f(cx - kx)} ${f(cy - ry)} ${f(cx - rx)} ${f(cy - ky)} ${f(cx - rx)} ${f(cy)}` +
    `C${f(cx - rx)} ${f(cy + ky)} ${f(cx - kx)} ${f(cy + ry)} ${f(cx)} ${f(cy + ry)}` +
    `C${f(cx + kx)} ${f(cy + ry)} ${f(cx + rx)} ${f(cy + ky)} ${f(cx + rx)} ${f(cy)}` +
    `C${f(cx + rx)} ${f(cy - ky)} ${f(cx + kx)} ${f(cy - ry)} ${f(cx)} ${f(cy - ry)}Z`
  )
}

/** The border: an outer outline and an inner one wound the other way, so only the band is filled. */
function ellipseRing(c: Canvas, rx: number, ry: number, thickness: number) {
  c.shapes.push(ellipsePath(c, rx, ry, false) + ellipsePath(c, rx - thickness, ry - thickness, true))
}

function squareRing(c: Canvas, half: number, thickness: number) {
  const cx = c.width / 2
  const cy = c.height / 2
  const o = half
  const i = half - thickness
  c.shapes.push(
    `M${f(cx - o)} ${f(cy - o)}L${f(cx + o)} ${f(cy - o)}L${f(cx + o)} ${f(cy + o)}L${f(cx - o)} ${f(cy + o)}Z` +
      `M${f(cx - i)} ${f(cy - i)}L${f(cx - i)} ${f(cy + i)}L${f(cx + i)} ${f(cy + i)}L${f(cx + i)} ${f(cy - i)}Z`,
  )
}

function star(c: Canvas, x: number, y: number, outer: number) {
  // A regular five-pointed star: the inner radius is the outer one divided by φ².
  const inner = outer * 0.381966
  let d = ''
  for (let k = 0; k < 10; k++) {
    const r = k % 2 === 0 ? outer : inner
    const angle = Math.PI / 2 - (k * Math.PI) / 5
    d += `${k === 0 ? 'M' : 'L'}${f(c.width / 2 + x + r * Math.cos(angle))} ${f(c.height / 2 - y - r * Math.sin(angle))}`
  }
  c.shapes.push(d + 'Z')
}

/**
 * Parameter values t on the ellipse (a·cos t, b·sin t), between t0 and t1, at the centres of
 * `n` slots of equal arc length, so characters on an oval sit evenly spaced.
 */
function evenlySpaced(a: number, b: number, t0: number, t1: number, n: number): { ts: number[]; slot: number } {
  const steps = 720
  const lengths = [0]
  for (let k = 1; k <= steps; k++) {
    const ta = t0 + ((t1 - t0) * (k - 1)) / steps
    const tb = t0 + ((t1 - t0) * k) / steps
    lengths.push((lengths[k - 1] as number) + Math.hypot(a * (Math.cos(tb) - Math.cos(ta)), b * (Math.sin(tb) - Math.sin(ta))))
  }
  const total = lengths[steps] as number
  const ts: number[] = []
  let k = 0
  for (let i = 0; i < n; i++) {
    const target = ((i + 0.5) / n) * total
    while (k < steps && (lengths[k + 1] as number) < target) k++
    const l0 = lengths[k] as number
    const l1 = lengths[k + 1] as number
    const frac = l1 > l0 ? (target - l0) / (l1 - l0) : 0
    ts.push(t0 + ((t1 - t0) * (k + frac)) / steps)
  }
  return { ts, slot: total / n }
}

/**
 * The sweep, symmetric about `centre`, whose arc on the ellipse is `length` long, or `maxSweep`
 * when even that is shorter. The ellipse is symmetric about both axes, so walking one half does.
 */
function sweepFor(a: number, b: number, centre: number, maxSweep: number, length: number): number {
  const steps = 360
  const half = maxSweep / 2
  let walked = 0
  let x = a * Math.cos(centre)
  let y = b * Math.sin(centre)
  for (let k = 1; k <= steps; k++) {
    const t = centre + (half * k) / steps
    const nx = a * Math.cos(t)
    const ny = b * Math.sin(t)
    walked += Math.hypot(nx - x, ny - y)
    if (walked >= length / 2) return (2 * half * k) / steps
    x = nx
    y = ny
  }
  return maxSweep
}

interface ArcText {
  chars: string[]
  /** Ellipse through the centres of the characters' em boxes. */
  a: number
  b: number
  /** Em size wanted; shrunk horizontally (then in size) when the arc is too short. */
  size: number
  /** Largest and smallest sweep, in radians of the parameter, centred on the top or bottom. */
  maxSweep: number
  minSweep: number
  side: 'top' | 'bottom'
  advanceOf: AdvanceOf
}

/** Characters along the top (tops outward) or bottom (tops inward) of an ellipse, left to right. */
function arcText(c: Canvas, text: ArcText) {
  const n = text.chars.length
  if (n === 0) return
  const advances = text.chars.map(text.advanceOf)
  const wanted = advances.reduce((s, w) => s + w, 0) * text.size * 1.08
  const centre = text.side === 'top' ? Math.PI / 2 : -Math.PI / 2
  const sweep = Math.max(sweepFor(text.a, text.b, centre, text.maxSweep, wanted), text.minSweep)
  const [t0, t1] = text.side === 'top' ? [centre + sweep / 2, centre - sweep / 2] : [centre - sweep / 2, centre + sweep / 2]
  const { ts, slot } = evenlySpaced(text.a, text.b, t0, t1, n)
  const meanAdvance = advances.reduce((s, w) => s + w, 0) / n
  const room = slot * 0.92
  let size = text.size
  let scaleX = Math.min(1, room / (meanAdvance * size))
  if (scaleX < 0.5) {
    size = room / (meanAdvance * 0.5)
    scaleX = 0.5
  }
  text.chars.forEach((char, i) => {
    const t = ts[i] as number
    const normal = Math.atan2(text.a * Math.sin(t), text.b * Math.cos(t))
    const rotation = text.side === 'top' ? normal - Math.PI / 2 : normal + Math.PI / 2
    // Keep the em box inside the band: the size may have shrunk, so pull the centre outward.
    const inset = (text.size - size) / 2
    place(c, char, (text.a + inset) * Math.cos(t), (text.b + inset) * Math.sin(t), rotation, size, scaleX)
  })
}

/** A horizontal line of characters centred at height y, at most `maxWidth` wide. */
function lineText(c: Canvas, chars: string[], y: number, size: number, maxWidth: number, tracking: number, advanceOf: AdvanceOf) {
  if (chars.length === 0) return
  const advances = chars.map(advanceOf)
  const natural = advances.reduce((s, w) => s + w, 0) * size
  const gap = tracking * size
  const full = natural + gap * (chars.length - 1)
  let scaleX = 1
  let spacing = gap
  if (full > maxWidth) {
    spacing = 0
    scaleX = Math.max(0.45, maxWidth / natural)
  }
  const width = natural * scaleX + spacing * (chars.length - 1)
  let x = -width / 2
  chars.forEach((char, i) => {
    const w = (advances[i] as number) * size * scaleX
    place(c, char, x + w / 2, y, 0, size, scaleX)
    x += w + spacing
  })
}

interface RoundSeal {
  diameter: number
  ownerName: string[]
  sealName: string[]
  serial: string[]
  advanceOf: AdvanceOf
}

function roundSeal(s: RoundSeal): SealAppearance {
  const r = s.diameter / 2
  const border = 1.2
  const c = canvas(s.diameter, s.diameter)
  ellipseRing(c, r, r, border)
  const size = s.ownerName.length <= 6 ? 7.4 : s.ownerName.length <= 10 ? 6.8 : 6.2
  const textRadius = r - border - 0.7 - size / 2
  arcText(c, {
    chars: s.ownerName,
    a: textRadius,
    b: textRadius,
    size,
    maxSweep: (250 * Math.PI) / 180,
    minSweep: (150 * Math.PI) / 180,
    side: 'top',
    advanceOf: s.advanceOf,
  })
  const starRadius = r / 3
  star(c, 0, s.sealName.length > 0 ? 0.5 : 0, starRadius)
  const nameY = -r * 0.5
  const nameSize = r * 0.22
  const halfChord = Math.sqrt((r - border) ** 2 - (Math.abs(nameY) + nameSize / 2) ** 2)
  lineText(c, s.sealName, nameY, nameSize, 2 * (halfChord - 3.2), 0.12, s.advanceOf)
  const serialSize = r * 0.11
  arcText(c, {
    chars: s.serial,
    a: r - border - 0.5 - serialSize / 2,
    b: r - border - 0.5 - serialSize / 2,
    size: serialSize,
    maxSweep: (100 * Math.PI) / 180,
    minSweep: 0,
    side: 'bottom',
    advanceOf: s.advanceOf,
  })
  return c
}

interface OvalSeal {
  ownerName: string[]
  middle: string[]
  bottom: string[]
  serial: string[]
  advanceOf: AdvanceOf
}

function ovalSeal(s: OvalSeal): SealAppearance {
  const a = 20
  const b = 15
  const border = 1
  const c = canvas(2 * a, 2 * b)
  ellipseRing(c, a, b, border)
  const size = s.ownerName.length <= 8 ? 5.2 : 4.6
  const inset = border + 0.6 + size / 2
  arcText(c, {
    chars: s.ownerName,
    a: a - inset,
    b: b - inset,
    size,
    maxSweep: (s.middle.length > 0 ? 200 : 225) * (Math.PI / 180),
    minSweep: (140 * Math.PI) / 180,
    side: 'top',
    advanceOf: s.advanceOf,
  })
  const innerA = a - border - size - 2.2
  lineText(c, s.middle, -0.6, 3.6, 2 * innerA, 0, s.advanceOf)
  const bottomY = s.middle.length > 0 ? -7.4 : -4.5
  const bottomSize = 4.2
  const halfChord = (a - border) * Math.sqrt(1 - ((Math.abs(bottomY) + bottomSize / 2) / (b - border)) ** 2)
  lineText(c, s.bottom, bottomY, bottomSize, 2 * (halfChord - 2.4), 0.1, s.advanceOf)
  const serialSize = 2
  arcText(c, {
    chars: s.serial,
    a: a - border - 0.4 - serialSize / 2,
    b: b - border - 0.4 - serialSize / 2,
    size: serialSize,
    maxSweep: (70 * Math.PI) / 180,
    minSweep: 0,
    side: 'bottom',
    advanceOf: s.advanceOf,
  })
  return c
}

/**
 * 法定代表人名章: a square with the name in a 2 × 2 grid, read in the traditional order (right
 * column top to bottom, then the left column). A two-character name becomes “X X 之印” and a
 * three-character one “X X X 印”, as seal makers do; longer names take more rows.
 */
function nameSeal(name: string[]): SealAppearance {
  const side = 20
  const border = 1
  const c = canvas(side, side)
  squareRing(c, side / 2, border)
  const chars = name.length === 2 ? [...name, '之', '印'] : name.length === 3 ? [...name, '印'] : name
  const rows = Math.ceil(chars.length / 2)
  const inner = side - 2 * border - 1.2
  const cellW = inner / 2
  const cellH = inner / rows
  const size = cellH * 0.98
  // With more than two rows the characters are squat, stretched to fill the width as carvers do.
  const scaleX = Math.min(1.4, (cellW * 0.98) / size)
  chars.forEach((char, i) => {
    const column = i < rows ? 1 : 0
    const row = i % rows
    const x = -inner / 2 + cellW * (column + 0.5)
    const y = inner / 2 - cellH * (row + 0.5)
    place(c, char, x, y, 0, size, scaleX)
  })
  return c
}

function f(n: number): string {
  return (Math.round(n * 1000) / 1000).toString()
}
