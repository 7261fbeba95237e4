import type { MiddlewareHandler } from 'hono'
import { prepareResponseSignature, readRequestSignature, type PreparedResponseSignature, type SignedRequest } from '../../adapters/crypto/http-signatures'
import { OutsideAgreementError, TongbanError } from '../../core/errors'
import type { LicenceUse } from '../../core/holder/licence-use'
import type { PartnerDeps } from '../deps'
import { errorToProblem } from '../problem'
import { checkAndClaim, signedRequestOf } from './signed-request'

export type PartnerVariables = {
  partner: { code: string; name: string }
  partnerRequest: SignedRequest
  /** Licence uses the call made: recorded with the call's audit entry, in one transaction, before the answer leaves. */
  licenceUses: LicenceUse[]
}

/** Partners that exceed their agreement's rate. */
export class PartnerRateLimitedError extends TongbanError {
  readonly code = 'partner_rate_limited'
  readonly status = 429
}

/**
 * The partner API's door (X-Road style: deny by default, sign and log every message). A request
 * must carry a valid RFC 9421 signature by the partner-auth key of a registered partner whose
 * trust list is current, inside its clock window, with a nonce never seen before; anything else
 * is a 401 problem. Every answer to a request with a well-formed signature is itself signed,
 * bound to that request, refusals included; and every call, accepted or not, is recorded in
 * the audit log before its answer leaves, together with the licence uses it made.
 */
export function partnerAuth(deps: PartnerDeps, publicUrl: string, log: (error: unknown) => void): MiddlewareHandler<{ Variables: PartnerVariables }> {
  return async (c, next) => {
    const request = await signedRequestOf(c, publicUrl)
    const url = new URL(c.req.url)
    const now = deps.clock.now()
    let partner: { code: string; name: string } | undefined
    let nonce: string | null = null
    let keyid: string | null = null
    const licenceUses: LicenceUse[] = []
    try {
      const claimed = await readRequestSignature(
        request,
        (kid) => {
          const key = deps.trust.findRegionKey(kid, 'partner-auth')
          return key && deps.registry.trusted(key.region.code) ? { keyid: kid, publicKey: key.publicKey, region: key.region.code } : undefined
        },
        now,
      )
      const verified = await checkAndClaim(claimed, deps.nonces, now, (authentic) => {
        keyid = authentic.key.keyid
        nonce = authentic.nonce
      })
      const known = deps.registry.trusted(verified.key.region)
      partner = { code: verified.key.region, name: known?.name ?? verified.key.region }
      c.set('partner', partner)
      c.set('partnerRequest', request)
      c.set('licenceUses', licenceUses)
      await next()
    } catch (error) {
      c.res = errorToProblem(error, c, log)
    }
    // The answer is read once, and these bytes are what is digested, signed, recorded and sent
    // (reading a clone instead costs a second stream per answer).
    const response = c.res
    const answer = new Uint8Array(await response.arrayBuffer())
    let signature: PreparedResponseSignature | undefined
    if (request.headers['signature-input'] !== undefined && request.headers.signature !== undefined) {
      try {
        signature = prepareResponseSignature({ status: response.status, body: answer }, request, deps.signingKey, deps.clock.now())
      } catch {
        // A request whose signature fields cannot even be parsed cannot be answered bound to them; its refusal goes unsigned.
      }
    }
    const code = response.status >= 400 ? ((JSON.parse(new TextDecoder().decode(answer) || '{}') as { code?: string }).code ?? null) : null
    const record = {
      direction: 'in' as const,
      partner: partner?.code ?? null,
      method: request.method,
      path: url.pathname,
      status: response.status,
      code,
      nonce,
      keyid,
      requestDigest: request.headers['content-digest'] ?? null,
      responseDigest: signature?.contentDigest ?? null,
    }
    // The thread pool signs the answer while the call is recorded: the record needs the answer's
    // digest, not its signature, and the answer leaves only once both are done. One commit for
    // the call's entry and the licence uses it made; a handler that failed made none. A signing
    // that WebCrypto refuses leaves the answer unsigned, as before.
    const [signed] = await Promise.all([signature?.sign().catch(() => undefined), deps.record(record, c.error ? [] : licenceUses)])
    const headers = new Headers(response.headers)
    for (const [name, value] of Object.entries(signed ?? {})) headers.set(name, value)
    c.res = new Response(answer, { status: response.status, headers })
  }
}

/** The agreement in force with the calling partner, within its rate; otherwise 403 or 429. */
export function requireAgreement(deps: PartnerDeps): MiddlewareHandler<{ Variables: PartnerVariables & { agreement: { id: string } } }> {
  return async (c, next) => {
    const partner = c.get('partner')
    const now = deps.clock.now()
    const agreement = deps.scope.agreementWith(partner.code, now)
    if (!agreement) throw new OutsideAgreementError('no_active_agreement', `no agreement with ${partner.code} is in force: both regions must have signed one and it must be inside its validity`)
    const taken = deps.limiter.take(partner.code, agreement.rateLimit, now.getTime())
    if (!taken.allowed) {
      c.header('Retry-After', String(taken.retryAfterS))
      throw new PartnerRateLimitedError(`the agreement allows ${agreement.rateLimit.requests} requests per ${agreement.rateLimit.perSeconds} s`)
    }
    c.set('agreement', agreement)
    await next()
  }
}
