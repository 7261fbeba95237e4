import type { NewOutboxMessage } from './outbox'

/** The destination scheme of messages to partner regions: `partner:<GB/T 2260 code>`. */
export const PARTNER_SCHEME = 'partner'

/** The stored headers that say which partner API call a `partner:` message is; they are not sent. */
export const PARTNER_METHOD_HEADER = 'tongban-partner-method'
export const PARTNER_PATH_HEADER = 'tongban-partner-path'

export function partnerDestination(regionCode: string): string {
  return `${PARTNER_SCHEME}:${regionCode}`
}

/** The partner's code in a `partner:<code>` destination, or undefined for any other destination. */
export function partnerOfDestination(destination: string): string | undefined {
  const match = /^partner:(\d{6})$/i.exec(destination)
  return match?.[1]
}

/**
 * A call to a partner's API, to be made by the outbox: the partner is named, not its URL, so
 * the call goes to the base URL of the partner's trust list as it is when it is sent, signed
 * with the partner-auth key in use then (a message may wait through a key rotation).
 */
export function partnerCallMessage(call: { id: string; topic: string; partner: string; method: string; path: string; body: unknown; subject?: string }): NewOutboxMessage {
  return {
    ...(call.subject !== undefined ? { subject: call.subject } : {}),
    id: call.id,
    topic: call.topic,
    destination: partnerDestination(call.partner),
    headers: { 'content-type': 'application/json', [PARTNER_METHOD_HEADER]: call.method, [PARTNER_PATH_HEADER]: call.path },
    body: JSON.stringify(call.body),
  }
}
