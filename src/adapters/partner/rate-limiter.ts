/**
 * A token bucket per key, in memory: `requests` per `perSeconds`, refilled continuously. Each
 * process keeps its own buckets, so N processes let through up to N times the rate; the
 * agreement's rate is a ceiling per service instance (docs/partners.md).
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>()

  /** Takes one token; the seconds until the next one when there is none. */
  take(key: string, limit: { requests: number; perSeconds: number }, nowMs: number): { allowed: true } | { allowed: false; retryAfterS: number } {
    const rate = limit.requests / (limit.perSeconds * 1000)
    const bucket = this.buckets.get(key) ?? { tokens: limit.requests, at: nowMs }
    bucket.tokens = Math.min(limit.requests, bucket.tokens + (nowMs - bucket.at) * rate)
    bucket.at = nowMs
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { allowed: true }
    }
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000)) }
  }
}
