import { sha256Hex } from './digest'

/** JSON with object members in code-point order, so the same request spelt in another order hashes alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${members.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** Hash of a request body, so a reused Idempotency-Key with another body is refused. */
export async function requestHash(body: unknown): Promise<string> {
  return sha256Hex(canonicalJson(body))
}
