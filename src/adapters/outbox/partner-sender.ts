import { PARTNER_METHOD_HEADER, PARTNER_PATH_HEADER, partnerOfDestination } from '../../core/outbox/partner-message'
import type { Sender } from '../../core/outbox/outbox'
import type { PartnerClient } from '../partner/partner-client'
import { SEND_TIMEOUT_MS } from './http-sender'

/**
 * Refusals that say "not now" rather than "never": the partner is rate limiting us (429, 408,
 * 425), or does not yet accept our signature (401: its copy of our trust list is older than
 * our key, which its next refresh fixes). Every other 4xx is the partner's considered refusal
 * of this message (outside the agreement, invalid), which sending it again cannot change.
 */
const TRANSIENT_REFUSALS = new Set([401, 408, 425, 429])

/**
 * Sends `partner:<code>` messages through the partner client: signed with this region's
 * partner-auth key, to the partner's base URL, and the answer taken only if the partner signed
 * it. A 2xx is delivery. No answer, an unverifiable one, a 5xx or a transient refusal is retried
 * (the client throws for the first two). A 4xx problem is permanent: the message is abandoned
 * with the problem's code in its last error, for the admin to see why it never arrived.
 */
export function partnerSender(client: Pick<PartnerClient, 'call'>, timeoutMs = SEND_TIMEOUT_MS): Sender {
  return async (message) => {
    const partner = partnerOfDestination(message.destination)
    const method = message.headers[PARTNER_METHOD_HEADER] ?? 'POST'
    const path = message.headers[PARTNER_PATH_HEADER]
    if (!partner || !path?.startsWith('/v1/partner/')) return { outcome: 'abandon', error: `not a partner API call: ${message.destination} ${path ?? '(no path)'}` }
    const call = `${method} ${path} to ${partner}`
    let answer
    try {
      answer = await client.call(partner, { method, path, body: JSON.parse(message.body) as unknown, timeoutMs })
    } catch (error) {
      return { outcome: 'retry', error: `${call}: ${error instanceof Error ? error.message : String(error)}` }
    }
    if (answer.status >= 200 && answer.status < 300) return { outcome: 'delivered', status: answer.status }
    const problem = problemOf(answer)
    const refusal = `${call}: HTTP ${answer.status}${problem.code ? ` ${problem.code}` : ''}${problem.detail ? `: ${problem.detail}` : ''}`
    if (answer.status >= 400 && answer.status < 500 && !TRANSIENT_REFUSALS.has(answer.status)) return { outcome: 'abandon', error: refusal }
    return { outcome: 'retry', error: refusal }
  }
}

function problemOf(answer: { contentType: string; json<T>(): T }): { code?: string; detail?: string } {
  if (!answer.contentType.includes('json')) return {}
  try {
    const body = answer.json<{ code?: unknown; detail?: unknown }>()
    return {
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
      ...(typeof body.detail === 'string' ? { detail: body.detail.slice(0, 300) } : {}),
    }
  } catch {
    return {}
  }
}
