import type { OutboxMessage, Sender, SendOutcome } from '../../core/outbox/outbox'

/** A webhook that does not answer in this time is tried again later; the dispatcher's lease is longer. */
export const SEND_TIMEOUT_MS = 10_000

/**
 * POSTs a message to a URL: its headers and body as stored, and `Tongban-Message-Id` (the id
 * receivers deduplicate on). Any 2xx is delivery; anything else, or no answer in time, is a
 * retry. A 4xx is retried too: the usual cause is a receiver configured later than this region
 * (an unknown key, a missing route), and giving up would lose the message for good.
 */
export async function postMessage(fetcher: typeof fetch, url: string, message: OutboxMessage, timeoutMs = SEND_TIMEOUT_MS): Promise<SendOutcome> {
  let response: Response
  try {
    response = await fetcher(url, {
      method: 'POST',
      headers: { ...message.headers, 'tongban-message-id': message.id },
      body: message.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return { outcome: 'retry', error: `POST ${url}: ${error instanceof Error ? error.message : String(error)}${cause ? ` (${cause})` : ''}` }
  }
  // The answer is read and dropped so the connection can be reused; its content is not relied on.
  await response.arrayBuffer().catch(() => undefined)
  if (response.status >= 200 && response.status < 300) return { outcome: 'delivered', status: response.status }
  return { outcome: 'retry', error: `POST ${url}: HTTP ${response.status}` }
}

/** The sender for destinations that are URLs themselves. */
export function urlSender(fetcher: typeof fetch, timeoutMs = SEND_TIMEOUT_MS): Sender {
  return (message) => postMessage(fetcher, message.destination, message, timeoutMs)
}
