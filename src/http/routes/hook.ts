import type { Context } from 'hono'
import type { ProblemDetail } from '../../core/errors'
import { problemResponse } from '../problem'

export type Hook = (result: { success: true } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }; target?: string }, c: Context) => Response | undefined

/** Turns a zod validation failure at the edge into a 400 problem that points at every bad member. */
export const validationHook: Hook = (result, c) => {
  if (result.success) return undefined
  const details: ProblemDetail[] = result.error.issues.map((issue) => ({
    pointer: `/${issue.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`.replace(/\/$/, '') || '',
    message: issue.message,
  }))
  const where = result.target === 'json' ? 'body' : (result.target ?? 'request')
  return problemResponse(c, 400, 'invalid_request', `the request ${where} is not valid: ${details.map((d) => `${d.pointer || '/'} ${d.message}`).join('; ')}`, details)
}
