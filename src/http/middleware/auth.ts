import type { MiddlewareHandler } from 'hono'
import { sha256 } from '../../adapters/crypto/sha256'
import { UnauthorizedError } from '../../core/errors'

/** Compares digests of both sides so the time taken says nothing about the token. */
function sameSecret(given: string, expected: Uint8Array): boolean {
  const digest = sha256(given)
  let difference = 0
  for (let i = 0; i < digest.length; i++) difference |= (digest[i] as number) ^ (expected[i] as number)
  return difference === 0
}

export type AuthVariables = { actor: { id: string } }

/** Bearer ADMIN_TOKEN for the issuer and admin API. */
export function requireAdmin(adminToken: string): MiddlewareHandler<{ Variables: AuthVariables }> {
  // The token is fixed for the life of the process: its digest is taken once, not per request.
  const expected = sha256(adminToken)
  return async (c, next) => {
    // Admin prefixes nest (/v1/admin/* and /v1/admin/partners/*, each guarded by its own module):
    // a request already let in as admin is not checked a second time.
    if (c.get('actor')?.id === 'admin') return next()
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match || !sameSecret(match[1] as string, expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="tongban"')
      throw new UnauthorizedError('this endpoint needs Authorization: Bearer <ADMIN_TOKEN>')
    }
    c.set('actor', { id: 'admin' })
    await next()
  }
}

/** The bearer token of a request, if it sent one. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1]
}

/** Answers whether a request's Authorization header carries the admin token (its digest taken once). */
export function adminTokenCheck(adminToken: string): (header: string | undefined) => boolean {
  const expected = sha256(adminToken)
  return (header) => {
    const token = bearerToken(header)
    return token !== undefined && sameSecret(token, expected)
  }
}
