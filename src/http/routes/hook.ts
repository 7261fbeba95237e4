import type { Context } from 'hono'
import type { ProblemDetail } from '../../core/errors'
import { problemResponse } from '../problem'
import { unstorableStrings } from '../storable-text'

interface Issue {
  code?: string
  path: ReadonlyArray<PropertyKey>
  message: string
  /** For unrecognized_keys: the members a strict schema does not know. */
  keys?: ReadonlyArray<string>
}

export type Hook = (
  result: { success: true; data?: unknown; target?: string } | { success: false; error: { issues: ReadonlyArray<Issue> }; target?: string },
  c: Context,
) => Response | undefined

const pointer = (path: ReadonlyArray<PropertyKey>) => path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')

/** One detail per bad member; an unknown member is pointed at itself rather than at its parent object. */
function details(issue: Issue): ProblemDetail[] {
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
    return issue.keys.map((key) => ({ pointer: pointer([...issue.path, key]), message: 'unknown member' }))
  }
  return [{ pointer: pointer(issue.path), message: issue.message }]
}

/**
 * Turns a zod validation failure at the edge into a 400 problem that points at every bad member,
 * and refuses a valid JSON body whose strings the database cannot store (422 invalid_characters).
 */
export const validationHook: Hook = (result, c) => {
  if (result.success) {
    if (result.target !== 'json') return undefined
    const unstorable = unstorableStrings(result.data)
    if (unstorable.length === 0) return undefined
    return problemResponse(c, 422, 'invalid_characters', 'strings in the request body may not contain U+0000 or unpaired surrogates', unstorable)
  }
  const problems = result.error.issues.flatMap(details)
  const where = result.target === 'json' ? 'body' : (result.target ?? 'request')
  return problemResponse(c, 400, 'invalid_request', `the request ${where} is not valid: ${problems.map((d) => `${d.pointer || '/'} ${d.message}`).join('; ')}`, problems)
}
