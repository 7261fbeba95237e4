export interface BackoffPolicy {
  /** Delay before the second attempt, in milliseconds. */
  baseMs: number
  /** No delay is ever longer than this. */
  capMs: number
}

/**
 * The delay before the next attempt after `attempts` failed ones: exponential, capped, with
 * "equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniformly random
 * between half the capped step and the whole step. The jitter keeps messages that failed
 * together (a webhook that was down) from all coming back at the same instant; the half that
 * is not random keeps a message from hammering a destination with near-zero delays.
 */
export function retryDelayMs(attempts: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30)
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** exponent)
  return Math.round(step / 2 + random() * (step / 2))
}
