import { decodeProtectedHeader, type JWK } from 'jose'
import { withUsccCheck } from '../src/core/licence/uscc'
import { businessLicenceRequest } from '../test/support/fixtures'
import { must, startPartneredRegions } from '../test/support/partnered-processes'
import { call } from '../test/support/region-process'
import { floorKeyPair, startHttpFloor, type FloorSetting, type HttpFloor } from './support/http-floor'
import { isMain, loadNote, log, missesTarget, processCpuSeconds, ratioOf, verdict, type BenchResult } from './support/measure'

/**
 * A partner verification round trip against a local verification of the same credential, in
 * the same run, on two real regions on loopback. 赣州 verifies a 龙岗 licence two ways through
 * its own API: `POST /v1/verify` checks it locally with 龙岗's cached trust list and status list;
 * `POST /v1/admin/partners/440307/verify` asks 龙岗 (request signed by 赣州 under RFC 9421,
 * checked, nonce stored, verified there, answer signed by 龙岗 and checked here, the call
 * audited on both sides). The cost of a call is its round trip, one call at a time from this
 * process; the CPU both region processes spend per call is printed beside it. The target is
 * that the partner call costs at most three times the local one.
 *
 * Each round also times a floor (support/http-floor-server.ts): the same two journeys on bare
 * `node:http` with nothing but their cryptography, the asker signing the body, the owner checking
 * that signature and the credential at once and signing its answer, the asker checking it; and a
 * bare local verification. Their ratio is what a signed round trip costs against a local check on
 * Node's HTTP here before any record of the call is kept.
 */
export const PARTNER_VERIFY_TARGET = 3

// BENCH_DATABASE=postgresql runs both regions on databases of their own in the server DATABASE_URL names.
const DATABASE = process.env.BENCH_DATABASE === 'postgresql' ? 'postgresql' : 'pglite'
const WARM_UP_MS = 2000
const ROUNDS = 4
const ROUND_MS = 2500
const PARTNER_PATH = '/v1/admin/partners/440307/verify'

/** Two partnered regions with an agreement in force and a 龙岗 licence to verify. */
async function partneredRegions() {
  // The sample's rate limit (600 a minute) would refuse a bench; this agreement allows far more.
  const { gz, lg } = await startPartneredRegions({
    terms: { id: 'bench-partner-verify', rateLimit: { requests: 1_000_000, perSeconds: 1 } },
    gz: { logLevel: 'warn', database: DATABASE },
    lg: { logLevel: 'warn', database: DATABASE },
  })
  const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00031'), name: '深圳龙岗基准测试有限公司' }
  const issued = await must(call(lg, 'POST', '/v1/licences', { json: businessLicenceRequest({ holder }) }), 201, 'issuing')
  return { gz, lg, credential: issued.credential as string }
}

/** Calls `path` one at a time for `ms` milliseconds; time per call, and CPU per call of each region process. */
async function oneAtATime(regions: { url: string; pid: number }[], path: string, body: string, token: string | undefined, ms: number) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }
  const cpuBefore = regions.map((region) => processCpuSeconds(region.pid) ?? 0)
  const start = performance.now()
  let calls = 0
  while (performance.now() - start < ms) {
    const response = await fetch(`${regions[0]!.url}${path}`, { method: 'POST', headers, body })
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
    await response.arrayBuffer()
    calls++
  }
  const elapsed = performance.now() - start
  const cpuMs = regions.reduce((sum, region, i) => sum + ((processCpuSeconds(region.pid) ?? 0) - (cpuBefore[i] as number)) * 1000, 0)
  return { msPerCall: elapsed / calls, cpuMsPerCall: cpuMs / calls, calls, elapsed }
}

export async function benchPartnerVerify(): Promise<BenchResult> {
  log(`partner verify: ${loadNote()}`)
  const { gz, lg, credential } = await partneredRegions()
  try {
    const body = JSON.stringify({ credential })
    const first = await must(call(gz, 'POST', PARTNER_PATH, { json: { credential } }), 200, 'a partner verify')
    const report = (first.answer as { report?: { indication?: string } }).report
    if (first.status !== 200 || report?.indication !== 'TOTAL_PASSED') throw new Error(`the partner verify did not pass: ${JSON.stringify(first)}`)
    const locally = await must(call(gz, 'POST', '/v1/verify', { json: { credential }, token: null }), 200, 'a local verify')
    if (locally.indication !== 'TOTAL_PASSED') throw new Error(`the local verify did not pass: ${JSON.stringify(locally)}`)

    const floors = await startFloors(lg, credential, JSON.stringify(first.answer), JSON.stringify(locally))
    try {
      const partner = (ms: number) => oneAtATime([gz, lg], PARTNER_PATH, body, gz.adminToken, ms)
      const local = (ms: number) => oneAtATime([gz, lg], '/v1/verify', body, undefined, ms)
      const floorPartner = (ms: number) => oneAtATime([floors.asker, floors.owner], '/', body, undefined, ms)
      const floorLocal = (ms: number) => oneAtATime([floors.local], '/', body, undefined, ms)
      await partner(WARM_UP_MS)
      await local(WARM_UP_MS)
      await floorPartner(WARM_UP_MS / 2)
      await floorLocal(WARM_UP_MS / 2)
      // Rounds alternate the four, so a burst of other work on the machine falls on each.
      const totals = { partner: { ms: 0, calls: 0, cpuMs: 0 }, local: { ms: 0, calls: 0, cpuMs: 0 }, floorPartner: { ms: 0, calls: 0, cpuMs: 0 }, floorLocal: { ms: 0, calls: 0, cpuMs: 0 } }
      const rounds: string[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const p = await partner(ROUND_MS)
        const l = await local(ROUND_MS)
        const fp = await floorPartner(ROUND_MS / 2)
        const fl = await floorLocal(ROUND_MS / 2)
        for (const [name, m] of [['partner', p], ['local', l], ['floorPartner', fp], ['floorLocal', fl]] as const) {
          totals[name].ms += m.elapsed
          totals[name].calls += m.calls
          totals[name].cpuMs += m.cpuMsPerCall * m.calls
        }
        rounds.push(`${(p.msPerCall / l.msPerCall).toFixed(2)} (${p.msPerCall.toFixed(2)}/${l.msPerCall.toFixed(2)} ms; floor ${(fp.msPerCall / fl.msPerCall).toFixed(2)})`)
      }
      const result: BenchResult = {
        name: 'partner verify',
        rate: totals.partner.ms / totals.partner.calls,
        unit: 'ms/call',
        ceiling: totals.local.ms / totals.local.calls,
        ceilingUnit: 'ms',
        ceilingName: 'local POST /v1/verify of the same credential, one at a time',
        target: PARTNER_VERIFY_TARGET,
        atMost: true,
      }
      const cpu = { partner: totals.partner.cpuMs / totals.partner.calls, local: totals.local.cpuMs / totals.local.calls }
      const floor = { partner: totals.floorPartner.ms / totals.floorPartner.calls, local: totals.floorLocal.ms / totals.floorLocal.calls }
      log(`partner verify: round trip / local per round: ${rounds.join(', ')}`)
      log(
        `partner verify: floor (bare node:http, the cryptography alone, no record of the call): round trip ${floor.partner.toFixed(2)} ms, local ${floor.local.toFixed(2)} ms, ` +
          `ratio ${(floor.partner / floor.local).toFixed(2)}; the service's round trip is ${(result.rate / floor.partner).toFixed(1)}× the floor's, its local verification ${(result.ceiling / floor.local).toFixed(1)}×`,
      )
      log(`partner verify: CPU per call, both regions together: partner ${cpu.partner.toFixed(2)} ms, local ${cpu.local.toFixed(2)} ms, ratio ${(cpu.partner / cpu.local).toFixed(2)}`)
      log(
        `partner verify: round trip ${result.rate.toFixed(2)} ms per call, local ${result.ceiling.toFixed(2)} ms, ratio ${ratioOf(result).toFixed(2)} ` +
          `(target ≤ ${PARTNER_VERIFY_TARGET.toFixed(2)}) ${verdict(result)}`,
      )
      return result
    } finally {
      await Promise.all([floors.local.stop(), floors.asker.stop(), floors.owner.stop()])
    }
  } finally {
    await Promise.all([gz.destroy(), lg.destroy()])
  }
}

/** The floor's three servers: a bare local verifier, and a bare asker calling a bare owner. */
async function startFloors(owningRegion: { url: string }, credential: string, partnerAnswer: string, localAnswer: string): Promise<{ local: HttpFloor; asker: HttpFloor; owner: HttpFloor }> {
  const { kid } = decodeProtectedHeader(credential)
  const { keys } = (await (await fetch(`${owningRegion.url}/v1/jwks`)).json()) as { keys: JWK[] }
  const documentSigner = keys.find((key) => key.kid === kid)
  if (!documentSigner) throw new Error(`龙岗's JWKS has no key ${kid}`)
  const partnerKeys = { asker: await floorKeyPair(), owner: await floorKeyPair() }
  const started: HttpFloor[] = []
  const start = async (setting: FloorSetting) => {
    const floor = await startHttpFloor(setting)
    started.push(floor)
    return floor
  }
  try {
    const local = await start({ role: 'verify', documentSigner, answer: localAnswer })
    const owner = await start({ role: 'partner-owner', documentSigner, answer: partnerAnswer, partnerKeys })
    const asker = await start({ role: 'partner-asker', documentSigner, answer: partnerAnswer, partnerKeys, ownerUrl: owner.url })
    return { local, asker, owner }
  } catch (error) {
    await Promise.all(started.map((floor) => floor.stop()))
    throw error
  }
}

if (isMain(import.meta.url)) {
  const result = await benchPartnerVerify()
  if (missesTarget(result)) process.exitCode = 1
}
