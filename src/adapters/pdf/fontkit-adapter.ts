import * as fontkit from 'fontkit'
import type { Font } from 'fontkit'
import type { PDFDocument } from 'pdf-lib'
import { TongbanError } from '../../core/errors'

/**
 * pdf-lib was written against @pdf-lib/fontkit, a fork of fontkit 1 whose TrueType subsetter
 * drops the outlines of most CJK glyphs (the text still extracts through ToUnicode, so only a
 * rendered page shows the loss). Upstream fontkit 2 subsets correctly but renamed the subset's
 * `encodeStream()` to a synchronous `encode()`; this adapter bridges that one method and keeps
 * one parsed font per byte array, because parsing a 15 MB CJK font costs ~70 ms and pdf-lib
 * would otherwise parse it again for every document.
 */

export class FontParseError extends TongbanError {
  readonly code = 'font_unusable'
  readonly status = 500
}

type PdfLibFontkit = Parameters<PDFDocument['registerFontkit']>[0]

const parsed = new WeakMap<Uint8Array, Font>()

/** The parsed font for these bytes; the same array always gives the same font object. */
export function parseFont(bytes: Uint8Array): Font {
  const cached = parsed.get(bytes)
  if (cached) return cached
  let font: ReturnType<typeof fontkit.create>
  try {
    // fontkit reads any Uint8Array; its typings ask for a Node Buffer only for historical reasons.
    font = fontkit.create(bytes as Buffer)
  } catch (cause) {
    throw new FontParseError('the CJK font could not be parsed', { cause })
  }
  if (!('glyphForCodePoint' in font)) {
    throw new FontParseError('the CJK font is a collection; pass a single font')
  }
  const { directory } = font as Font & { directory: { tables: Record<string, unknown> } }
  if (!('glyf' in directory.tables)) {
    // CFF outlines subset several times slower and this adapter has only been proven on glyf.
    throw new FontParseError('the CJK font must have TrueType (glyf) outlines')
  }
  parsed.set(bytes, font)
  return font
}

interface SubsetStream {
  on(event: 'data' | 'end' | 'error', listener: (value?: unknown) => void): SubsetStream
}

function withEncodeStream(subset: fontkit.Subset) {
  return {
    includeGlyph: (glyph: fontkit.Glyph) => subset.includeGlyph(glyph),
    encodeStream(): SubsetStream {
      const listeners: Partial<Record<'data' | 'end' | 'error', (value?: unknown) => void>> = {}
      const stream: SubsetStream = {
        on(event, listener) {
          listeners[event] = listener
          return stream
        },
      }
      // pdf-lib attaches its listeners after the call returns, so emit on a later tick.
      queueMicrotask(() => {
        let bytes: Uint8Array
        try {
          bytes = subset.encode()
        } catch (error) {
          listeners.error?.(error)
          return
        }
        listeners.data?.(bytes)
        listeners.end?.()
      })
      return stream
    },
  }
}

/** What `PDFDocument.registerFontkit` takes, backed by upstream fontkit 2. */
export const pdfLibFontkit: PdfLibFontkit = {
  create(bytes: Uint8Array) {
    const font = parseFont(bytes)
    const view = new Proxy(font, {
      get(target, property) {
        if (property === 'createSubset') return () => withEncodeStream(target.createSubset())
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    // pdf-lib's Font type describes @pdf-lib/fontkit; the proxy provides the members it uses.
    return view as unknown as ReturnType<PdfLibFontkit['create']>
  },
}
