import type { Sender } from '../../core/outbox/outbox'
import { systemIdOfDestination, type SupervisionSystemStore } from '../../core/supervision/supervision-system'
import { postMessage, SEND_TIMEOUT_MS } from './http-sender'

/**
 * Sends `supervision:<id>` messages to the system's webhook as registered now, so a webhook
 * that moved is followed by the events still waiting. A system that is no longer registered
 * will never take its events: they are abandoned.
 */
export function supervisionSender(systems: Pick<SupervisionSystemStore, 'get'>, fetcher: typeof fetch, timeoutMs = SEND_TIMEOUT_MS): Sender {
  return async (message) => {
    const id = systemIdOfDestination(message.destination)
    const system = id ? await systems.get(id) : undefined
    if (!system) return { outcome: 'abandon', error: `no supervision system ${id ?? message.destination} is registered` }
    return postMessage(fetcher, system.webhookUrl, message, timeoutMs)
  }
}
