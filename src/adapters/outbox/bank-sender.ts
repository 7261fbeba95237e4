import { relyingPartyOfDestination } from '../../core/holder/status-subscription'
import type { RelyingPartyStore } from '../../core/holder/relying-party'
import type { Sender } from '../../core/outbox/outbox'
import { postMessage, SEND_TIMEOUT_MS } from './http-sender'

/**
 * Sends `bank:<id>` status events to the bank's webhook as registered now. A bank that was
 * revoked, or has no webhook any more, will never take them: they are abandoned.
 */
export function bankSender(parties: Pick<RelyingPartyStore, 'getRelyingParty'>, fetcher: typeof fetch, timeoutMs = SEND_TIMEOUT_MS): Sender {
  return async (message) => {
    const id = relyingPartyOfDestination(message.destination)
    const party = id ? await parties.getRelyingParty(id) : undefined
    if (!party || party.revokedAt || !party.webhookUrl) return { outcome: 'abandon', error: `bank ${id ?? message.destination} is not registered with a webhook` }
    return postMessage(fetcher, party.webhookUrl, message, timeoutMs)
  }
}
