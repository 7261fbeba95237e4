import type { ProblemDetail } from '../core/errors'

const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const MAX_REPORTED = 20

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1')
}

function collect(value: unknown, pointer: string, found: ProblemDetail[]): void {
  if (found.length >= MAX_REPORTED) return
  if (typeof value === 'string') {
    if (NUL_OR_LONE_SURROGATE.test(value)) found.push({ pointer, message: 'contains U+0000 or an unpaired surrogate' })
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => collect(item, `${pointer}/${i}`, found))
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = `${pointer}/${escapePointer(key)}`
      if (NUL_OR_LONE_SURROGATE.test(key)) found.push({ pointer: at, message: 'member name contains U+0000 or an unpaired surrogate' })
      collect(item, at, found)
    }
  }
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000 or an unpaired UTF-16 surrogate, and neither
 * means anything in a licence: such strings in a request are reported, each by its pointer,
 * instead of failing later in the database.
 */
export function unstorableStrings(value: unknown): ProblemDetail[] {
  const found: ProblemDetail[] = []
  collect(value, '', found)
  return found
}
