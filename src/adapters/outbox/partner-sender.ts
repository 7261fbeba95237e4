import { PARTNER_METHOD_HEADER, PARTNER_PATH_HEADER, partnerOfDestination } from '../../core/outbox/partner-message'
import type { Sender } from '../../core/outbox/outbox'
import { describeAnswer, isFinalRefusal } from '../partner/partner-answer'
import type { PartnerClient } from '../partner/partner-client'
import { SEND_TIMEOUT_MS } from './http-sender'

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
    const refusal = describeAnswer(call, answer)
    return isFinalRefusal(answer.status) ? { outcome: 'abandon', error: refusal } : { outcome: 'retry', error: refusal }
  }
}
