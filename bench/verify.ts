import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { businessLicenceRequest } from '../test/support/fixtures'
import { countOf, fmt, isMain, load, loadNote, log, missesTarget, processCpuSeconds, rateOf, ratioOf, verdict, type BenchResult } from './support/measure'
import { startService, type Service } from './support/service'

/**
 * POST /v1/verify throughput against its ceiling: jose's compactVerify of the same credential
 * with the same public key, in one Node process, with as many verifications in flight as the
 * load has connections. WebCrypto runs ECDSA on libuv's thread pool, so one process verifies
 * more with several in flight than one at a time, and the service under 32 connections gets
 * the same parallelism: the concurrent rate is the ceiling (the sequential one is printed for
 * reference). The endpoint adds HTTP, routing, validation, the policy's checks and the report
 * to that signature check; the target is that it keeps at least half of the raw rate.
 *
 * The load generator shares the machine with the service, so rates per CPU-second (the
 * service's CPU for the endpoint, this process's for the raw loop) are printed beside the
 * wall-clock ones: they hold still when other work competes for the cores.
 */
export const VERIFY_TARGET = 0.5

const CONNECTIONS = 32
const WARM_UP_S = 5
const ROUNDS = 4
const ENDPOINT_S = 2
const RAW_MS = 1000

export async function issueOne(service: Service): Promise<{ id: string; credential: string }> {
  const response = await fetch(`${service.url}/v1/licences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(businessLicenceRequest()),
  })
  if (response.status !== 201) throw new Error(`issuing a licence answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as { id: string; credential: string }
}

/** The document signer's public key as the service publishes it, for the raw ceiling. */
async function publishedKey(service: Service, credential: string) {
  const { kid } = decodeProtectedHeader(credential)
  const { keys } = (await (await fetch(`${service.url}/v1/jwks`)).json()) as { keys: JWK[] }
  const jwk = keys.find((key) => key.kid === kid)
  if (!jwk) throw new Error(`the JWKS has no key ${kid}`)
  return importJWK(jwk, 'ES256')
}

export function verifyLoad(service: Service, credential: string, connections: number, duration: number) {
  return load({
    url: `${service.url}/v1/verify`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential }),
    connections,
    duration,
  })
}

/** Uses the given service and leaves it running, or starts and stops its own. */
export async function benchVerify(given?: Service): Promise<BenchResult> {
  log(`verify: ${loadNote()}`)
  const service = given ?? (await startService())
  try {
    const { credential } = await issueOne(service)
    const check = await fetch(`${service.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }) })
    const report = (await check.json()) as { indication?: string }
    if (check.status !== 200 || report.indication !== 'TOTAL_PASSED') throw new Error(`the fresh licence did not verify: ${check.status} ${JSON.stringify(report)}`)
    const key = await publishedKey(service, credential)
    const raw = () => compactVerify(credential, key, { algorithms: ['ES256'] })

    await verifyLoad(service, credential, CONNECTIONS, WARM_UP_S)
    await rateOf(500, CONNECTIONS, raw)
    const sequential = await rateOf(RAW_MS, 1, raw)

    // Rounds alternate endpoint and ceiling, so a burst of other work on the machine falls on both.
    // Each also counts CPU seconds (the service's, then this process's), for rates per CPU-second.
    const endpoint = { requests: 0, seconds: 0, cpuSeconds: 0 }
    const ceiling = { ops: 0, seconds: 0, cpuSeconds: 0 }
    let cpuKnown = true
    const rounds: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const before = processCpuSeconds(service.pid)
      const { rate, result } = await verifyLoad(service, credential, CONNECTIONS, ENDPOINT_S)
      const after = processCpuSeconds(service.pid)
      if (before === undefined || after === undefined) cpuKnown = false
      else endpoint.cpuSeconds += after - before
      endpoint.requests += result['2xx']
      endpoint.seconds += result.duration
      const counted = await countOf(RAW_MS, CONNECTIONS, raw)
      ceiling.ops += counted.ops
      ceiling.seconds += counted.seconds
      ceiling.cpuSeconds += counted.cpuSeconds
      rounds.push(`${(rate / (counted.ops / counted.seconds)).toFixed(2)} (${fmt(rate)}/${fmt(counted.ops / counted.seconds)})`)
    }
    const result: BenchResult = {
      name: 'verify',
      rate: endpoint.requests / endpoint.seconds,
      unit: 'req/s',
      ceilingName: `raw jose compactVerify, ${CONNECTIONS} in flight`,
      ceiling: ceiling.ops / ceiling.seconds,
      target: VERIFY_TARGET,
    }
    log(`verify: ratio per round (endpoint/raw): ${rounds.join(', ')}`)
    log(`verify: raw jose one at a time ${fmt(sequential)} ops/s; endpoint/that ${(result.rate / sequential).toFixed(2)} (reference only: a loop that waits for each verification leaves the thread pool idle, so it is no ceiling)`)
    if (cpuKnown && endpoint.cpuSeconds > 0) {
      const perCpu = endpoint.requests / endpoint.cpuSeconds
      const rawPerCpu = ceiling.ops / ceiling.cpuSeconds
      log(`verify: per CPU-second: endpoint ${fmt(perCpu)} req, raw jose ${fmt(rawPerCpu)} ops, ratio ${(perCpu / rawPerCpu).toFixed(2)} (service ${(endpoint.cpuSeconds / endpoint.seconds).toFixed(2)} cores busy under load)`)
    }
    log(
      `verify: endpoint ${fmt(result.rate)} req/s, raw jose ${fmt(result.ceiling)} ops/s, ratio ${ratioOf(result).toFixed(2)} ` +
        `(target ≥ ${VERIFY_TARGET.toFixed(2)}) ${verdict(result)}`,
    )
    return result
  } finally {
    if (!given) {
      await service.stop()
      await service.removeData()
    }
  }
}

if (isMain(import.meta.url)) {
  const result = await benchVerify()
  if (missesTarget(result)) process.exitCode = 1
}
