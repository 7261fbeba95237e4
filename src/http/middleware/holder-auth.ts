import type { MiddlewareHandler } from 'hono'
import { UnauthorizedError } from '../../core/errors'
import type { HolderAuthenticator, HolderPrincipal } from '../../core/holder/holder'
import { relyingPartyOf, type RelyingParty, type RelyingPartyStore } from '../../core/holder/relying-party'
import { bearerToken } from './auth'

export type HolderVariables = { holder: HolderPrincipal }
export type BankVariables = { bank: RelyingParty }

/** Bearer holder credential (or whatever token the configured authenticator accepts). */
export function requireHolder(authenticator: HolderAuthenticator): MiddlewareHandler<{ Variables: HolderVariables }> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    const holder = token ? await authenticator.authenticate(token) : undefined
    if (!holder) {
      c.header('WWW-Authenticate', 'Bearer realm="tongban-holder"')
      throw new UnauthorizedError('this endpoint needs Authorization: Bearer <holder credential>')
    }
    c.set('holder', holder)
    await next()
  }
}

/** Bearer credential of a registered bank (a `tbb_` token from POST /v1/admin/relying-parties). */
export function requireBank(parties: Pick<RelyingPartyStore, 'relyingPartyByTokenHash'>): MiddlewareHandler<{ Variables: BankVariables }> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    const bank = token ? await relyingPartyOf(parties, token) : undefined
    if (!bank) {
      c.header('WWW-Authenticate', 'Bearer realm="tongban-bank"')
      throw new UnauthorizedError('this endpoint needs Authorization: Bearer <bank credential>')
    }
    c.set('bank', bank)
    await next()
  }
}
