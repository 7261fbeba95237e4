import { readFileSync } from 'node:fs'
import type { PartnerScope } from '../../src/core/partner/scope'
import { createTestApp, type TestApp } from './app'

export interface PartnerPair {
  gz: TestApp
  lg: TestApp
  /** Every URL fetched by either region, in order. */
  fetched: string[]
  /** Makes one region's host unreachable (or reachable again). */
  setDown(host: 'gz.test' | 'lg.test', down: boolean): void
  /** Replaces what a host answers for one path, to play a partner gone bad. */
  override(host: 'gz.test' | 'lg.test', path: string, answer: ((request: Request) => Promise<Response>) | undefined): void
  /** Moves 赣州's clock forward (its status copies age; 龙岗 keeps real time). */
  advanceGz(ms: number): void
  /** Moves 龙岗's clock forward (its outbox retries fall due). */
  advanceLg(ms: number): void
  close(): Promise<void>
}

/**
 * Two regions in one process, 赣州 (360700, http://gz.test) and 龙岗 (440307, http://lg.test),
 * each the real app on its own database, whose fetches to each other's host are routed to the
 * other app; anything else is refused, so a test sees every URL either one tried to reach.
 */
export async function createPartnerPair(options: { partnerStatusMaxAgeMs?: number } = {}): Promise<PartnerPair> {
  const apps = new Map<string, TestApp>()
  const down = new Set<string>()
  const overrides = new Map<string, (request: Request) => Promise<Response>>()
  const fetched: string[] = []
  const route: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    fetched.push(request.url)
    if (down.has(url.host)) throw new TypeError(`fetch failed: ${url.host} is down`)
    const custom = overrides.get(`${url.host}${url.pathname}`)
    if (custom) return custom(request)
    const app = apps.get(url.host)
    if (!app) throw new TypeError(`fetch failed: no route to ${url.host}`)
    return app.app.request(`${url.pathname}${url.search}`, { method: request.method, headers: request.headers, ...(request.method === 'GET' ? {} : { body: await request.arrayBuffer() }) })
  }
  const common = { fetch: route, ...(options.partnerStatusMaxAgeMs !== undefined ? { partnerStatusMaxAgeMs: options.partnerStatusMaxAgeMs } : {}) }
  let gzOffsetMs = 0
  let lgOffsetMs = 0
  const gz = await createTestApp({ ...common, publicUrl: 'http://gz.test', clock: { now: () => new Date(Date.now() + gzOffsetMs) } })
  const lg = await createTestApp({ ...common, regionCode: '440307', regionName: '深圳市龙岗区', publicUrl: 'http://lg.test', clock: { now: () => new Date(Date.now() + lgOffsetMs) } })
  apps.set('gz.test', gz)
  apps.set('lg.test', lg)
  return {
    gz,
    lg,
    fetched,
    setDown: (host, isDown) => void (isDown ? down.add(host) : down.delete(host)),
    override: (host, path, answer) => void (answer ? overrides.set(`${host}${path}`, answer) : overrides.delete(`${host}${path}`)),
    advanceGz: (ms) => void (gzOffsetMs += ms),
    advanceLg: (ms) => void (lgOffsetMs += ms),
    close: async () => {
      await gz.close()
      await lg.close()
    },
  }
}

/** Registers each region as the other's partner, by descriptor URL and pinned root. */
export async function registerBoth(pair: PartnerPair): Promise<void> {
  for (const [here, there, host] of [[pair.gz, pair.lg, 'lg.test'], [pair.lg, pair.gz, 'gz.test']] as const) {
    const response = await here.request('POST', '/v1/admin/partners', { json: { descriptorUrl: `http://${host}/.well-known/tongban`, rootFingerprint: there.deps.publication.rootFingerprint } })
    if (response.status !== 201) throw new Error(`registering ${host} answered ${response.status}: ${await response.text()}`)
  }
}

/** An agreement stand-in for tests of the partner door: `allowed` maps partner → licence type → disclosed fields. */
export function scopeOf(allowed: Record<string, Record<string, string[]>>, rateLimit = { requests: 100, perSeconds: 60 }): PartnerScope {
  return {
    agreementWith: (partner) => (allowed[partner] ? { id: `agreement-${partner}`, rateLimit } : undefined),
    verifiableFields: (partner, type) => allowed[partner]?.[type],
  }
}

/** The sample agreement of contracts/agreements/, in force from an hour ago, with changes. */
export function sampleTerms(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const sample = JSON.parse(readFileSync(new URL('../../contracts/agreements/360700-440307.sample.json', import.meta.url), 'utf8')) as Record<string, unknown>
  return { ...sample, validFrom: new Date(Date.now() - 3_600_000).toISOString(), ...changes }
}

/** 赣州 proposes the terms through its admin API and 龙岗 countersigns through its own: the agreement is then in force on both. */
export async function agreeBoth(pair: PartnerPair, terms: Record<string, unknown> = sampleTerms()): Promise<void> {
  const proposed = await pair.gz.request('POST', '/v1/admin/agreements', { json: terms })
  if (proposed.status !== 201) throw new Error(`proposing answered ${proposed.status}: ${await proposed.text()}`)
  const signed = await pair.lg.request('POST', `/v1/admin/agreements/${String(terms.id)}/countersignature`)
  if (signed.status !== 200) throw new Error(`countersigning answered ${signed.status}: ${await signed.text()}`)
}

/**
 * 赣州 and 龙岗 registered as each other's partners and bound by the sample agreement: where the
 * cross-region application tests start.
 */
export async function createAgreedPair(options: Parameters<typeof createPartnerPair>[0] = {}): Promise<PartnerPair> {
  const pair = await createPartnerPair(options)
  try {
    await registerBoth(pair)
    await agreeBoth(pair)
    return pair
  } catch (error) {
    await pair.close()
    throw error
  }
}
