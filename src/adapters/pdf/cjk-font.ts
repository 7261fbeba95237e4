import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { ConfigurationError } from '../../core/errors'

/**
 * Noto Serif SC Regular, a Song-style (宋体) face like the one printed on paper certificates,
 * shipped as a static TrueType font by an npm package so that every deployment embeds the same
 * outlines whatever fonts the host has. The renderers take the bytes as an argument; this Node
 * adapter is the only place that knows where they live.
 */
export const CJK_FONT_MODULE = '@expo-google-fonts/noto-serif-sc/400Regular/NotoSerifSC_400Regular.ttf'

let loading: Promise<Uint8Array> | undefined

/** The font's bytes, read once per process; the same array every call, so it is parsed once. */
export function loadCjkFont(): Promise<Uint8Array> {
  loading ??= readFile(createRequire(import.meta.url).resolve(CJK_FONT_MODULE)).then(
    (buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
    (cause: unknown) => {
      loading = undefined
      throw new ConfigurationError(`the CJK font ${CJK_FONT_MODULE} is not installed`, { cause })
    },
  )
  return loading
}
