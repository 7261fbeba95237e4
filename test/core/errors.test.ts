import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ConfigurationError,
  ForbiddenError,
  IdempotencyConflictError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  InvalidTransitionError,
  InvalidUsccError,
  MalformedJsonError,
  NotFoundError,
  TongbanError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../src/core/errors'

const root = join(import.meta.dirname, '..', '..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

/** Problem codes as the source spells them: class codes, codes passed to error constructors, and codes of responses made directly. */
function codesInSource(): Map<string, string> {
  const patterns = [
    /readonly code = '([a-z0-9_]+)'/g,
    /new \w+Error\(\s*'([a-z][a-z0-9]*_[a-z0-9_]+)'/g,
    /problemResponse\(c, \d+, '([a-z0-9_]+)'/g,
    // Union types of codes handed to one error class (PdfSigningError, Pkcs12Error).
    /^\s*\| '([a-z0-9]+_[a-z0-9_]+)'$/gm,
    /constructor\(code: ('[^,]+),/g,
  ]
  const found = new Map<string, string>()
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8')
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        const captured = match[1] as string
        const codes = captured.includes("'") ? (captured.match(/'[a-z0-9_]+'/g) ?? []).map((quoted) => quoted.slice(1, -1)) : [captured]
        for (const code of codes) {
          if (/^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z]+$/.test(code)) found.set(code, file.slice(root.length + 1))
        }
      }
    }
  }
  return found
}

function codesInContract(): Set<string> {
  const text = readFileSync(join(root, 'contracts', 'problems.md'), 'utf8')
  return new Set([...text.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((match) => match[1] as string))
}

describe('problem codes', () => {
  it('finds the codes it should (the scan itself works)', () => {
    const codes = codesInSource()
    for (const code of ['malformed_json', 'invalid_uscc', 'licence_not_found', 'invalid_licence_request', 'body_too_large', 'not_found', 'internal_error', 'invalid_characters', 'reason_required']) {
      expect(codes.has(code), code).toBe(true)
    }
  })

  it('every code in src/ is documented in contracts/problems.md', () => {
    const documented = codesInContract()
    const missing = [...codesInSource()].filter(([code]) => !documented.has(code)).map(([code, file]) => `${code} (${file})`)
    expect(missing).toEqual([])
  })

  it('contracts/problems.md documents no code that src/ no longer has', () => {
    const inSource = codesInSource()
    expect([...codesInContract()].filter((code) => !inSource.has(code))).toEqual([])
  })
})

describe('error classes', () => {
  it.each([
    [new MalformedJsonError('x'), 'malformed_json', 400],
    [new InvalidRequestError('x'), 'invalid_request', 400],
    [new UnauthorizedError('x'), 'unauthorized', 401],
    [new ForbiddenError('x'), 'forbidden', 403],
    [new NotFoundError('licence_not_found', 'x'), 'licence_not_found', 404],
    [new InvalidTransitionError('x'), 'invalid_transition', 409],
    [new IdempotencyConflictError('x'), 'idempotency_in_progress', 409],
    [new UnsupportedMediaTypeError('x'), 'unsupported_media_type', 415],
    [new ValidationError('invalid_fields', 'x'), 'invalid_fields', 422],
    [new InvalidUsccError('x'), 'invalid_uscc', 422],
    [new IdempotencyKeyReusedError('x'), 'idempotency_key_reused', 422],
    [new ConfigurationError('x'), 'invalid_configuration', 500],
  ] as const)('%s has code %s and status %i', (error, code, status) => {
    expect(error).toBeInstanceOf(TongbanError)
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe(code)
    expect(error.status).toBe(status)
    expect(error.name).toBe(error.constructor.name)
    expect(error.details).toEqual([])
  })

  it('keeps the message, the details and the cause', () => {
    const cause = new Error('underlying')
    const error = new InvalidUsccError('bad code', { cause, details: [{ pointer: '/holder/uscc', message: 'check character' }] })
    expect(error.message).toBe('bad code')
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual([{ pointer: '/holder/uscc', message: 'check character' }])
    expect(new ValidationError('invalid_fields', 'm', [{ pointer: '/fields/a', message: 'required' }]).details).toHaveLength(1)
  })
})
