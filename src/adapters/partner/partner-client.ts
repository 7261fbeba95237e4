import { newNonce, PartnerSignatureError, signRequest, verifyResponse, type SignedRequest, type SigningKey } from '../crypto/http-signatures'
import { TongbanError } from '../../core/errors'
import type { PartnerCallRecord } from '../../core/partner/scope'
import type { Clock } from '../../core/ports'
import type { MemoryTrustStore } from '../memory/trust-store'
import { PARTNER_TIMEOUT_MS, PartnerUnreachableError } from './fetch-text'
import type { PartnerReply, PartnerTransport } from './partner-transport'
import type { PartnerRegistry } from './partner-registry'

/** The partner's answer could not be trusted: unsigned, signed by another key, or not bound to the request. */
export class PartnerAnswerUnverifiedError extends TongbanError {
  readonly code = 'partner_answer_unverified'
  readonly status = 502
}

/** A call to a region that is not a registered partner with a current trust list. */
export class PartnerNotTrustedError extends TongbanError {
  readonly code = 'partner_not_trusted'
  readonly status = 409
}

export interface PartnerAnswer {
  status: number
  contentType: string
  body: Uint8Array
  json<T = unknown>(): T
}

/** Partner answers are reports, applications and licence PDFs: none is near this. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

export interface PartnerClientDeps {
  registry: Pick<PartnerRegistry, 'trusted'>
  trust: Pick<MemoryTrustStore, 'findRegionKey'>
  signingKey: SigningKey
  clock: Clock
  transport: PartnerTransport
  record(call: PartnerCallRecord): Promise<void>
}

/**
 * Calls a partner's API: the request signed with this region's partner-auth key (RFC 9421,
 * contracts/partner-api.md), sent to the base URL of the partner's pinned trust list, and the
 * answer accepted only with a valid signature by the partner's partner-auth key bound to this
 * very request. Every call is recorded, whatever its outcome.
 */
export function createPartnerClient(deps: PartnerClientDeps) {
  return {
    async call(partnerCode: string, options: { method: string; path: string; body?: unknown; timeoutMs?: number }): Promise<PartnerAnswer> {
      const partner = deps.registry.trusted(partnerCode)
      if (!partner) throw new PartnerNotTrustedError(`${partnerCode} is not a registered partner with a current trust list`)
      const body = options.body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(options.body))
      const url = `${partner.baseUrl}${options.path}`
      const nonce = newNonce()
      const headers: Record<string, string> = { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) }
      Object.assign(headers, await signRequest({ method: options.method, url, body }, deps.signingKey, deps.clock.now(), nonce))
      const request: SignedRequest = { method: options.method, url, headers, body }
      const record: PartnerCallRecord = {
        direction: 'out',
        partner: partnerCode,
        method: options.method,
        path: options.path,
        status: 0,
        code: null,
        nonce,
        keyid: deps.signingKey.keyid,
        requestDigest: headers['content-digest'] ?? null,
        responseDigest: null,
      }
      try {
        let reply: PartnerReply
        try {
          reply = await deps.transport({ method: options.method, url, headers, body, timeoutMs: options.timeoutMs ?? PARTNER_TIMEOUT_MS, maxAnswerBytes: MAX_ANSWER_BYTES })
        } catch (cause) {
          record.code = 'partner_unreachable'
          throw new PartnerUnreachableError(`${partnerCode} could not be reached at ${url}: ${(cause as Error).message}`, { cause })
        }
        const { status, headers: answerHeaders, body: answer } = reply
        record.status = status
        record.responseDigest = answerHeaders['content-digest'] ?? null
        try {
          await verifyResponse(
            { status, headers: answerHeaders, body: answer },
            request,
            (kid) => {
              const key = deps.trust.findRegionKey(kid, 'partner-auth')
              return key ? { keyid: kid, publicKey: key.publicKey, region: key.region.code } : undefined
            },
            partnerCode,
          )
        } catch (error) {
          if (!(error instanceof PartnerSignatureError)) throw error
          record.code = 'partner_answer_unverified'
          throw new PartnerAnswerUnverifiedError(`${partnerCode} answered ${status} without a valid signature of its own: ${error.message}`, { cause: error })
        }
        const contentType = answerHeaders['content-type'] ?? ''
        if (status >= 400 && contentType.includes('json')) record.code = (JSON.parse(new TextDecoder().decode(answer)) as { code?: string }).code ?? null
        return {
          status,
          contentType,
          body: answer,
          json: <T>() => JSON.parse(new TextDecoder().decode(answer)) as T,
        }
      } finally {
        await deps.record(record)
      }
    },
  }
}

export type PartnerClient = ReturnType<typeof createPartnerClient>
