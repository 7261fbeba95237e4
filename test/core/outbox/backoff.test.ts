import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { retryDelayMs } from '../../../src/core/outbox/backoff'

const policy = { baseMs: 2_000, capMs: 300_000 }

describe('retryDelayMs', () => {
  it('doubles per failed attempt, from the base', () => {
    const high = () => 0.999999
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, high))).toEqual([2_000, 4_000, 8_000, 16_000])
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([1_000, 2_000, 4_000, 8_000])
  })

  it('never exceeds the cap, even after a thousand attempts', () => {
    expect(retryDelayMs(9, policy, () => 0.999999)).toBe(300_000)
    expect(retryDelayMs(1000, policy, () => 0.999999)).toBe(300_000)
  })

  it('is jittered between half the capped step and the whole of it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 }), (attempts, random, baseMs, extra) => {
        const p = { baseMs, capMs: baseMs + extra }
        const step = Math.min(p.capMs, p.baseMs * 2 ** Math.min(attempts - 1, 30))
        const delay = retryDelayMs(attempts, p, () => random)
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2))
        expect(delay).toBeLessThanOrEqual(step)
      }),
    )
  })

  it('spreads messages that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, policy)))
    expect(delays.size).toBeGreaterThan(40)
  })
})
