import type { Clock } from '../ports'
import { retryDelayMs, type BackoffPolicy } from './backoff'
import { destinationScheme, type OutboxMessage, type OutboxStore, type Sender, type SendOutcome } from './outbox'

export interface DispatcherLog {
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

export interface DispatcherOptions {
  store: OutboxStore
  /** One sender per destination scheme (`http` and `https` for URLs, `supervision`, …). */
  senders: Record<string, Sender>
  clock: Clock
  backoff: BackoffPolicy
  /** Messages sent at once, and claimed per round. */
  batchSize: number
  /**
   * How long a claimed message stays leased to this dispatcher. Longer than any send can take
   * (senders time out well before), so a message is never sent twice at once; short enough that
   * a message claimed by a process that crashed goes out soon after.
   */
  leaseMs: number
  log: DispatcherLog
  random?: () => number
}

const MAX_ERROR_LENGTH = 500

/**
 * Delivers the outbox: claims due messages, sends each with the sender of its destination's
 * scheme, and records the outcome. A failure is retried with capped exponential backoff and
 * jitter, for as long as it takes; only a sender's `abandon` (the destination is gone) ends a
 * message undelivered. One round runs at a time; `wake` asks for a round now (after a commit)
 * instead of at the next tick.
 */
export class OutboxDispatcher {
  private running: Promise<number> | undefined
  private again = false
  private timer: ReturnType<typeof setInterval> | undefined

  private readonly senders: Record<string, Sender>

  constructor(private readonly options: DispatcherOptions) {
    this.senders = { ...options.senders }
  }

  /** Adds the sender of a destination scheme (e.g. `partner` for messages to partner regions). */
  registerSender(scheme: string, sender: Sender): void {
    this.senders[scheme.toLowerCase()] = sender
  }

  /** Runs rounds until no due message is left (or a round fails); resolves with how many were attempted. */
  drain(): Promise<number> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      let attempted = 0
      try {
        for (;;) {
          this.again = false
          const round = await this.round()
          attempted += round
          if (round < this.options.batchSize && !this.again) return attempted
        }
      } finally {
        this.running = undefined
      }
    })()
    return this.running
  }

  /** Asks for a round as soon as possible; failures are logged, the next tick tries again. */
  wake(): void {
    if (!this.timer) return
    this.drain().catch((error: unknown) => this.options.log.error({ err: error }, 'outbox round failed'))
  }

  /** Delivers on a timer, and on `wake`, until `stop`. */
  start(pollMs: number): void {
    if (this.timer) return
    this.timer = setInterval(() => this.wake(), pollMs)
    this.timer.unref?.()
    this.wake()
  }

  /** Stops the timer and waits for the round in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => undefined)
  }

  private async round(): Promise<number> {
    const { store, clock, batchSize, leaseMs } = this.options
    const now = clock.now()
    const messages = await store.claimDue(now, batchSize, new Date(now.getTime() + leaseMs))
    await Promise.all(messages.map((message) => this.deliver(message)))
    return messages.length
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { store, clock, backoff, log } = this.options
    const sender = this.senders[destinationScheme(message.destination)]
    let result: SendOutcome
    if (!sender) {
      result = { outcome: 'abandon', error: `no sender for destination ${message.destination}` }
    } else {
      try {
        result = await sender(message)
      } catch (error) {
        result = { outcome: 'retry', error: error instanceof Error ? error.message : String(error) }
      }
    }
    const at = clock.now()
    if (result.outcome === 'delivered') return store.markDelivered(message.id, at)
    const error = result.error.slice(0, MAX_ERROR_LENGTH)
    if (result.outcome === 'abandon') {
      log.error({ messageId: message.id, destination: message.destination, error }, 'outbox message abandoned')
      return store.markAbandoned(message.id, at, error)
    }
    const next = new Date(at.getTime() + retryDelayMs(message.attempts, backoff, this.options.random))
    log.warn({ messageId: message.id, destination: message.destination, attempts: message.attempts, nextAttemptAt: next.toISOString(), error }, 'outbox delivery failed; will retry')
    return store.markRetry(message.id, at, next, error)
  }
}
