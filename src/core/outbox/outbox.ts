/**
 * The transactional outbox (docs/outbox.md). A message is written in the same database
 * transaction as the state change that causes it, so it exists exactly when the change does;
 * a dispatcher delivers it afterwards, retrying until the destination takes it. Delivery is at
 * least once: a receiver may see a message twice (it took it, but the answer was lost) and
 * deduplicates on the message id, which never changes between attempts.
 */
export interface NewOutboxMessage {
  /** Stable across every attempt: the receiver's deduplication key. */
  id: string
  /** What the message is, for people and metrics (e.g. `supervision.licence-event`); not used for routing. */
  topic: string
  /**
   * Where it goes: an http(s) URL, or a named destination `<scheme>:<name>` (e.g.
   * `supervision:<id>`) that the sender registered for the scheme resolves when it sends, so a
   * destination that moved or was removed is seen by messages still waiting.
   */
  destination: string
  headers: Record<string, string>
  body: string
  /** What the message is about (an application's id), so that its messages can be listed with it. */
  subject?: string
}

export interface OutboxMessage extends NewOutboxMessage {
  createdAt: Date
  /** Attempts made so far, including the one this message was claimed for. */
  attempts: number
}

/** Writes to the outbox, inside the caller's transaction. */
export interface OutboxWrites {
  enqueueMessage(message: NewOutboxMessage): Promise<void>
}

/** What a sender made of one attempt. */
export type SendOutcome =
  | { outcome: 'delivered'; status?: number }
  /** Try again later: the destination is down, slow, or refused this time. */
  | { outcome: 'retry'; error: string }
  /** Never try again: the destination no longer exists. */
  | { outcome: 'abandon'; error: string }

export type Sender = (message: OutboxMessage) => Promise<SendOutcome>

/** The dispatcher's view of the stored outbox. */
export interface OutboxStore {
  /**
   * Claims up to `limit` messages that are due, oldest first, and leases them until `leaseUntil`:
   * no other dispatcher (another process on the same PostgreSQL) takes them meanwhile, and if
   * this one dies mid-send they fall due again when the lease runs out.
   */
  claimDue(now: Date, limit: number, leaseUntil: Date): Promise<OutboxMessage[]>
  markDelivered(id: string, at: Date): Promise<void>
  markRetry(id: string, at: Date, nextAttemptAt: Date, error: string): Promise<void>
  markAbandoned(id: string, at: Date, error: string): Promise<void>
}

/** The scheme of a destination: `https` for a URL, `supervision` for `supervision:<id>`. */
export function destinationScheme(destination: string): string {
  const colon = destination.indexOf(':')
  return colon > 0 ? destination.slice(0, colon).toLowerCase() : ''
}
