import type { PdfObjectChange, PdfUpdate } from '../../core/verification/pdf-checks'
import type { PdfState } from './pdf-file'
import { PdfDict, PdfRef, PdfStream, decodeTextString, isWhitespace, nameOf, pdfEquals, type PdfValue } from './pdf-syntax'

/**
 * Difference analysis of incremental updates, in the manner of pyHanko's diff_analysis: each
 * update is compared with the revision before it, object by object, and every change must match
 * an explicit allow-list; anything else is a modification. The allow-list:
 *
 * - a new signature or document timestamp: a new signature field (with its value) and widget,
 *   new objects reachable only from them (signature dictionary, appearance streams and their
 *   resources), AcroForm /Fields and a page's /Annots extended by it, /SigFlags, the catalog
 *   gaining /AcroForm; or an existing empty signature field getting its /V and /AP;
 * - validation data: the catalog's /DSS and objects reachable from it;
 * - metadata: the document information dictionary and the catalog's /Metadata stream;
 * - cross-reference and object streams themselves, and objects rewritten unchanged.
 */

const MAX_WALK = 100_000

interface Context {
  before: PdfState
  after: PdfState
  changes: PdfObjectChange[]
  kinds: Set<string>
  /** Objects new in this update that an allowed change accounts for. */
  roots: PdfValue[]
  /** Objects new in this update, not yet accounted for. */
  fresh: Set<number>
  widgets: PdfUpdate['signatureWidgets']
  pageIndex: Map<number, number>
  contentStreams: Set<number>
}

const allow = (ctx: Context, object: number | null, what: string, kind: string, detail: string) => {
  ctx.kinds.add(kind)
  ctx.changes.push({ object, what, allowed: true, detail })
}
const forbid = (ctx: Context, object: number | null, what: string, detail: string) => {
  ctx.kinds.add('modification')
  ctx.changes.push({ object, what, allowed: false, detail })
}

/** Classifies the update that turns `before` into `after`. */
export function analyseUpdate(before: PdfState, after: PdfState): PdfUpdate {
  const start = before.marker.end
  const ctx: Context = { before, after, changes: [], kinds: new Set(), roots: [], fresh: new Set(), widgets: [], pageIndex: new Map(), contentStreams: new Set() }
  const beforeOffsets = before.chain.map((s) => s.offset)
  let k = 0
  while (k < after.chain.length && !beforeOffsets.includes((after.chain[k] as { offset: number }).offset)) k++
  const added = after.chain.slice(0, k)
  const rest = after.chain.slice(k).map((s) => s.offset)
  if (rest.length !== beforeOffsets.length || rest.some((o, i) => o !== beforeOffsets[i])) forbid(ctx, null, 'revision history', 'the update does not chain back (/Prev) to the revision before it')
  if (added.length === 0) forbid(ctx, null, 'revision without cross-reference section', 'bytes were appended but no new cross-reference section describes them')
  for (const section of added) if (section.offset < start) forbid(ctx, null, 'hidden cross-reference section', `a section at ${section.offset} lies inside the earlier revision`)

  const beforeRoot = before.catalog()
  const afterRoot = after.catalog()
  if (beforeRoot.ref.num !== afterRoot.ref.num) forbid(ctx, afterRoot.ref.num, 'document catalog', 'trailer /Root now names another object')
  if (!pdfEquals(before.trailer.get('Encrypt'), after.trailer.get('Encrypt'))) forbid(ctx, null, 'encryption', 'trailer /Encrypt changed')

  const pages = before.pages()
  const annotArrays = new Map<number, number>()
  pages.forEach((p, i) => {
    ctx.pageIndex.set(p.ref.num, i)
    const annots = p.dict.get('Annots')
    if (annots instanceof PdfRef) annotArrays.set(annots.num, i)
    const contents = p.dict.get('Contents')
    for (const c of Array.isArray(contents) ? contents : [contents]) if (c instanceof PdfRef) ctx.contentStreams.add(c.num)
  })
  const acroFormRef = beforeRoot.dict.get('AcroForm')
  const acroForm = before.dict(acroFormRef)
  const fieldsRef = acroForm?.get('Fields')
  const emptySigFields = new Set(signatureFields(before).filter((f) => f.value === undefined).map((f) => f.ref?.num))
  const refNum = (v: PdfValue | undefined) => (v instanceof PdfRef ? v.num : undefined)
  const infoNum = refNum(before.trailer.get('Info'))
  const newInfoNum = refNum(after.trailer.get('Info'))
  const metadataNum = refNum(beforeRoot.dict.get('Metadata'))
  const dssNums = reachable(before, beforeRoot.dict.get('DSS'))
  // Metadata and validation data may change only where the rendered document does not reach:
  // a signed revision could have made its XMP stream or a DSS entry double as page content.
  let rendered: Set<number> | undefined
  const isRendered = (num: number) => (rendered ??= reachable(before, [...beforeRoot.dict.entries].filter(([key]) => key !== 'DSS' && key !== 'Metadata').map(([, v]) => v))).has(num)

  const changed = new Set<number>()
  for (const section of added) for (const num of section.entries.keys()) changed.add(num)
  const redefined: number[] = []
  for (const num of [...changed].sort((a, b) => a - b)) {
    const entry = after.entry(num)
    if (num === 0) continue
    if (!entry || entry.type === 0) {
      if (before.has(num)) forbid(ctx, num, describe(ctx, num, before.resolve(num)), 'object deleted after signing')
    } else if (before.has(num)) redefined.push(num)
    else {
      const next = after.resolve(num)
      if (!(next instanceof PdfStream && ['XRef', 'ObjStm'].includes(nameOf(next.dict.get('Type')) ?? ''))) ctx.fresh.add(num)
    }
  }
  for (const num of redefined) {
    const prev = before.resolve(num)
    const next = after.resolve(num)
    if (pdfEquals(prev, next)) continue
    if (num === beforeRoot.ref.num) catalogRule(ctx, num, beforeRoot.dict, next instanceof PdfDict ? next : undefined)
    else if (ctx.pageIndex.has(num)) pageRule(ctx, num, prev, next)
    else if (num === refNum(acroFormRef)) acroFormRule(ctx, num, before.dict(prev), after.dict(next))
    else if (num === refNum(fieldsRef)) appendRule(ctx, num, 'AcroForm /Fields', before.array(prev), after.array(next), 'field')
    else if (annotArrays.has(num)) appendRule(ctx, num, `page ${(annotArrays.get(num) as number) + 1} /Annots`, before.array(prev), after.array(next), 'widget')
    else if (emptySigFields.has(num)) fillRule(ctx, num, before.dict(prev), after.dict(next))
    else if (num === infoNum && num === newInfoNum && next instanceof PdfDict && !isRendered(num)) allow(ctx, num, 'document information', 'metadata', 'information dictionary updated')
    else if (num === metadataNum && next instanceof PdfStream && !isRendered(num)) allow(ctx, num, 'XMP metadata', 'metadata', 'metadata stream updated')
    else if (dssNums.has(num) && !isRendered(num)) allow(ctx, num, 'validation data', 'dss', 'DSS updated')
    else forbid(ctx, num, describe(ctx, num, prev), 'redefined after signing')
  }

  if (newInfoNum !== undefined && ctx.fresh.has(newInfoNum)) {
    ctx.roots.push(new PdfRef(newInfoNum, 0))
    allow(ctx, newInfoNum, 'document information', 'metadata', 'information dictionary added')
  }
  const accounted = reachable(after, ctx.roots, ctx.fresh)
  for (const num of ctx.fresh) if (!accounted.has(num)) forbid(ctx, num, describe(ctx, num, after.resolve(num)), 'added after signing and not part of a signature or validation data')
  if (ctx.changes.length === 0) ctx.kinds.add('no-op')
  return { start, end: after.marker.end, kinds: [...ctx.kinds], changes: ctx.changes, signatureWidgets: ctx.widgets }
}

/** Bytes after the last %%EOF that no revision describes: readers ignore them, so may a repairing one not. */
export function trailingData(bytes: Uint8Array, lastEnd: number): PdfUpdate | null {
  let p = lastEnd
  while (p < bytes.length && isWhitespace(bytes[p])) p++
  if (p === bytes.length) return null
  return { start: lastEnd, end: bytes.length, kinds: ['modification'], changes: [{ object: null, what: 'trailing data', allowed: false, detail: `${bytes.length - lastEnd} bytes after the last %%EOF belong to no revision` }], signatureWidgets: [] }
}

function catalogRule(ctx: Context, num: number, prev: PdfDict, next: PdfDict | undefined): void {
  if (!next) return forbid(ctx, num, 'document catalog', 'no longer a dictionary')
  for (const key of new Set([...prev.entries.keys(), ...next.entries.keys()])) {
    const a = prev.get(key)
    const b = next.get(key)
    if (pdfEquals(a, b)) continue
    if (key === 'AcroForm') {
      if (b instanceof PdfRef && ctx.fresh.has(b.num)) ctx.roots.push(b)
      acroFormRule(ctx, num, ctx.before.dict(a), ctx.after.dict(b))
    } else if (key === 'DSS') {
      ctx.roots.push(b ?? null)
      allow(ctx, num, 'validation data', 'dss', 'catalog /DSS set')
    } else if (key === 'Metadata' && ctx.after.get(b) instanceof PdfStream) {
      ctx.roots.push(b ?? null)
      allow(ctx, num, 'XMP metadata', 'metadata', 'catalog /Metadata replaced')
    } else forbid(ctx, num, 'document catalog', `catalog /${key} changed`)
  }
}

function acroFormRule(ctx: Context, num: number, prev: PdfDict | undefined, next: PdfDict | undefined): void {
  if (!next) return forbid(ctx, num, 'AcroForm', 'interactive form removed')
  for (const key of new Set([...(prev?.entries.keys() ?? []), ...next.entries.keys()])) {
    const a = prev?.get(key)
    const b = next.get(key)
    if (pdfEquals(a, b)) continue
    if (key === 'Fields') {
      if (b instanceof PdfRef && ctx.fresh.has(b.num)) ctx.roots.push(b)
      appendRule(ctx, num, 'AcroForm /Fields', ctx.before.array(a) ?? [], ctx.after.array(b), 'field')
    } else if (key === 'SigFlags') allow(ctx, num, 'AcroForm', 'signature', '/SigFlags set')
    else forbid(ctx, num, 'AcroForm', `AcroForm /${key} changed`)
  }
}

function pageRule(ctx: Context, num: number, prev: PdfValue | undefined, next: PdfValue | undefined): void {
  const page = (ctx.pageIndex.get(num) as number) + 1
  if (!(prev instanceof PdfDict) || !(next instanceof PdfDict)) return forbid(ctx, num, `page ${page}`, 'replaced by something else')
  for (const key of new Set([...prev.entries.keys(), ...next.entries.keys()])) {
    const a = prev.get(key)
    const b = next.get(key)
    if (pdfEquals(a, b)) continue
    if (key === 'Annots') {
      if (b instanceof PdfRef && ctx.fresh.has(b.num)) ctx.roots.push(b)
      appendRule(ctx, num, `page ${page} /Annots`, ctx.before.array(a) ?? [], ctx.after.array(b), 'widget')
    } else forbid(ctx, num, `page ${page}`, `page /${key} changed`)
  }
}

/**
 * An array (/Fields or /Annots) may only grow at the end, and only by signature fields or
 * signature widgets that are new in this update and carry a signature value.
 */
function appendRule(ctx: Context, num: number, what: string, prev: PdfValue[] | undefined, next: PdfValue[] | undefined, kind: 'field' | 'widget'): void {
  if (!prev || !next) return forbid(ctx, num, what, 'no longer an array')
  if (next.length < prev.length || prev.some((v, i) => !pdfEquals(v, next[i]))) return forbid(ctx, num, what, 'existing entries removed or reordered')
  for (const item of next.slice(prev.length)) {
    const target = item instanceof PdfRef ? ctx.after.dict(item) : undefined
    if (!(item instanceof PdfRef) || !ctx.fresh.has(item.num) || !target) {
      forbid(ctx, item instanceof PdfRef ? item.num : num, target ? describe(ctx, item instanceof PdfRef ? item.num : num, target) : what, `${what} gained an entry that is not a new object`)
      continue
    }
    const field = signatureField(ctx.after, target, ctx.fresh)
    if (!field || (kind === 'widget' && nameOf(target.get('Subtype')) !== 'Widget')) {
      forbid(ctx, item.num, describe(ctx, item.num, target), `added to ${what}`)
      continue
    }
    const value = ctx.after.dict(field.get('V'))
    if (!value) {
      forbid(ctx, item.num, 'signature field', `unsigned signature field added to ${what}`)
      continue
    }
    ctx.roots.push(item)
    const type = nameOf(value.get('Type')) === 'DocTimeStamp' ? 'doc-timestamp' : 'signature'
    allow(ctx, num, what, type, `new signature ${kind} ${item.num}`)
    if (kind === 'widget') {
      const rect = ctx.after.array(target.get('Rect'))
      ctx.widgets.push({ field: decodeTextString(field.get('T')) ?? null, page: ctx.pageIndex.get(num) ?? pageOf(ctx, num), rect: rect && rect.every((n) => typeof n === 'number') ? (rect as number[]) : null })
    }
  }
}

function pageOf(ctx: Context, annotsNum: number): number | null {
  for (const p of ctx.before.pages()) if (refNumOf(p.dict.get('Annots')) === annotsNum) return ctx.pageIndex.get(p.ref.num) ?? null
  return null
}

const refNumOf = (v: PdfValue | undefined) => (v instanceof PdfRef ? v.num : undefined)

/** An empty signature field from the signed revision may receive its value, and with it an appearance. */
function fillRule(ctx: Context, num: number, prev: PdfDict | undefined, next: PdfDict | undefined): void {
  if (!prev || !next) return forbid(ctx, num, 'signature field', 'replaced by something else')
  if (!ctx.after.dict(next.get('V'))) return forbid(ctx, num, 'signature field', 'an empty signature field changed without being signed')
  for (const key of new Set([...prev.entries.keys(), ...next.entries.keys()])) {
    if (pdfEquals(prev.get(key), next.get(key))) continue
    if (key === 'V' && prev.get('V') === undefined) {
      ctx.roots.push(next.get('V') ?? null)
      allow(ctx, num, 'signature field', 'signature', 'empty signature field signed')
    } else if (key === 'AP') {
      ctx.roots.push(next.get('AP') ?? null)
      allow(ctx, num, 'signature field', 'signature', 'appearance of the signed field')
    } else forbid(ctx, num, 'signature field', `field /${key} changed`)
  }
}

/**
 * The signature field a dictionary is, or is the widget of (FT is inheritable). Every /Parent on
 * the way must be new too: a new widget hung under an existing signed field would draw a new
 * appearance without a new signature.
 */
function signatureField(state: PdfState, dict: PdfDict, fresh: Set<number>): PdfDict | undefined {
  let node: PdfDict | undefined = dict
  for (let depth = 0; node && depth < 32; depth++) {
    const ft = nameOf(node.get('FT'))
    if (ft !== undefined) return ft === 'Sig' ? (node.get('T') !== undefined || node === dict ? node : undefined) : undefined
    const parent = node.get('Parent')
    if (!(parent instanceof PdfRef) || !fresh.has(parent.num)) return undefined
    node = state.dict(parent)
  }
  return undefined
}

/** Object numbers reachable from `from`; with `only`, the walk enters and returns only those objects. */
function reachable(state: PdfState, from: PdfValue | PdfValue[] | undefined, only?: Set<number>): Set<number> {
  const seen = new Set<number>()
  const stack: PdfValue[] = Array.isArray(from) ? [...from] : from === undefined ? [] : [from]
  while (stack.length > 0 && seen.size < MAX_WALK) {
    const v = stack.pop()
    if (v instanceof PdfRef) {
      if (seen.has(v.num) || (only && !only.has(v.num))) continue
      seen.add(v.num)
      const target = state.resolve(v)
      if (target !== undefined) stack.push(target)
    } else if (Array.isArray(v)) stack.push(...v)
    else if (v instanceof PdfDict) stack.push(...v.entries.values())
    else if (v instanceof PdfStream) stack.push(...v.dict.entries.values())
  }
  return seen
}

/** Every signature field of a revision, with its value when it has one. */
export function signatureFields(state: PdfState): { ref: PdfRef | undefined; name: string | null; value: PdfValue | undefined; dict: PdfDict }[] {
  const out: { ref: PdfRef | undefined; name: string | null; value: PdfValue | undefined; dict: PdfDict }[] = []
  const acroForm = state.dict(state.catalog().dict.get('AcroForm'))
  const seen = new Set<number>()
  const walk = (item: PdfValue, parentName: string | null, inheritedFt: string | undefined, depth: number) => {
    if (depth > 32 || seen.size > 10_000) return
    if (item instanceof PdfRef) {
      if (seen.has(item.num)) return
      seen.add(item.num)
    }
    const dict = state.dict(item)
    if (!dict) return
    const own = decodeTextString(dict.get('T'))
    const name = own === undefined ? parentName : parentName ? `${parentName}.${own}` : own
    const ft = nameOf(dict.get('FT')) ?? inheritedFt
    const kids = state.array(dict.get('Kids')) ?? []
    const fieldKids = kids.filter((k) => state.dict(k)?.get('T') !== undefined)
    if (fieldKids.length > 0) for (const kid of fieldKids) walk(kid, name, ft, depth + 1)
    else if (ft === 'Sig') out.push({ ref: item instanceof PdfRef ? item : undefined, name, value: dict.get('V'), dict })
  }
  for (const field of state.array(acroForm?.get('Fields')) ?? []) walk(field, null, undefined, 0)
  return out
}

function describe(ctx: Context, num: number, value: PdfValue | undefined): string {
  if (value instanceof PdfStream) {
    const d = value.dict
    if (ctx.contentStreams.has(num)) return 'page content stream'
    const subtype = nameOf(d.get('Subtype'))
    if (subtype === 'Form') return 'form XObject'
    if (subtype === 'Image') return 'image XObject'
    if (nameOf(d.get('Type')) === 'Metadata') return 'metadata stream'
    return d.get('Length1') !== undefined || d.get('Length2') !== undefined || subtype === 'OpenType' || subtype === 'Type1C' || subtype === 'CIDFontType0C' ? 'embedded font program' : 'stream'
  }
  if (value instanceof PdfDict) {
    const type = nameOf(value.get('Type'))
    const subtype = nameOf(value.get('Subtype'))
    if (type === 'Annot' || (subtype && value.get('Rect') !== undefined)) return `${subtype ?? 'unknown'} annotation`
    if (type === 'Page') return `page ${ctx.pageIndex.has(num) ? (ctx.pageIndex.get(num) as number) + 1 : ''}`.trim()
    const names: Record<string, string> = { Pages: 'page tree node', Catalog: 'document catalog', Font: 'font', FontDescriptor: 'font descriptor', OCG: 'optional content group', ExtGState: 'graphics state', Sig: 'signature dictionary', DocTimeStamp: 'document timestamp dictionary', XObject: 'XObject', Action: 'action' }
    if (type && names[type]) return names[type] as string
    if (value.get('FT') !== undefined) return 'form field'
    return 'dictionary'
  }
  return Array.isArray(value) ? 'array' : 'object'
}
