import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { businessLicenceRequest } from '../test/support/fixtures'
import { countOf, fmt, isMain, load, loadNote, log, missesTarget, processCpuSeconds, rateOf, ratioOf, verdict, type BenchResult } from './support/measure'
import { startHttpFloor } from './support/http-floor'
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
 *
 * Each round also loads an HTTP floor (support/http-floor-server.ts): bare `node:http` that
 * only parses the body, runs the same compactVerify and sends the service's own report back.
 * Its ratio to the raw rate is the most any endpoint on Node's HTTP server can keep on this
 * machine, and the endpoint's ratio to it is what tongban's own code costs.
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

/** The document signer's public key as the service publishes it, for the raw ceiling and the HTTP floor. */
async function publishedJwk(service: Service, credential: string): Promise<JWK> {
  const { kid } = decodeProtectedHeader(credential)
  const { keys } = (await (await fetch(`${service.url}/v1/jwks`)).json()) as { keys: JWK[] }
  const jwk = keys.find((key) => key.kid === kid)
  if (!jwk) throw new Error(`the JWKS has no key ${kid}`)
  return jwk
}

/** Loads `POST {url}/v1/verify` (the service's, or the HTTP floor's: it answers any path). */
export function verifyLoad(service: { url: string }, credential: string, connections: number, duration: number) {
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
    const answer = await check.text()
    const report = JSON.parse(answer) as { indication?: string }
    if (check.status !== 200 || report.indication !== 'TOTAL_PASSED') throw new Error(`the fresh licence did not verify: ${check.status} ${answer}`)
    const jwk = await publishedJwk(service, credential)
    const key = await importJWK(jwk, 'ES256')
    const raw = () => compactVerify(credential, key, { algorithms: ['ES256'] })
    const floor = await startHttpFloor({ role: 'verify', documentSigner: jwk, answer })
    try {
      await verifyLoad(service, credential, CONNECTIONS, WARM_UP_S)
      await verifyLoad(floor, credential, CONNECTIONS, WARM_UP_S / 2)
      await rateOf(500, CONNECTIONS, raw)
      const sequential = await rateOf(RAW_MS, 1, raw)

      // Rounds alternate endpoint, floor and ceiling, so a burst of other work on the machine falls
      // on all three. Each counts CPU seconds too (the server's process, then this process), for
      // rates per CPU-second.
      const endpoint = tally()
      const httpFloor = tally()
      const ceiling = tally()
      const rounds: string[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const served = endpoint.add(await loadCounted(service, credential))
        const floored = httpFloor.add(await loadCounted(floor, credential))
        const counted = ceiling.add(await countOf(RAW_MS, CONNECTIONS, raw))
        rounds.push(`${(served / counted).toFixed(2)} (${fmt(served)}/${fmt(counted)}; floor ${(floored / counted).toFixed(2)})`)
      }
      const result: BenchResult = {
        name: 'verify',
        rate: endpoint.rate(),
        unit: 'req/s',
        ceilingName: `raw jose compactVerify, ${CONNECTIONS} in flight`,
        ceiling: ceiling.rate(),
        target: VERIFY_TARGET,
      }
      log(`verify: ratio per round (endpoint/raw): ${rounds.join(', ')}`)
      log(`verify: raw jose one at a time ${fmt(sequential)} ops/s; endpoint/that ${(result.rate / sequential).toFixed(2)} (reference only: a loop that waits for each verification leaves the thread pool idle, so it is no ceiling)`)
      log(
        `verify: HTTP floor (bare node:http + compactVerify, the report given) ${fmt(httpFloor.rate())} req/s, ${(httpFloor.rate() / result.ceiling).toFixed(2)} of raw jose: ` +
          `the most an endpoint on Node's HTTP server keeps here; the endpoint keeps ${(result.rate / httpFloor.rate()).toFixed(2)} of the floor`,
      )
      const perCpu = endpoint.perCpu()
      const floorPerCpu = httpFloor.perCpu()
      if (perCpu !== undefined && floorPerCpu !== undefined) {
        const rawPerCpu = ceiling.perCpu() as number
        log(
          `verify: per CPU-second: endpoint ${fmt(perCpu)} req, HTTP floor ${fmt(floorPerCpu)} req, raw jose ${fmt(rawPerCpu)} ops; ` +
            `ratio ${(perCpu / rawPerCpu).toFixed(2)}, floor ${(floorPerCpu / rawPerCpu).toFixed(2)} (service ${endpoint.coresBusy().toFixed(2)} cores busy under load)`,
        )
      }
      log(
        `verify: endpoint ${fmt(result.rate)} req/s, raw jose ${fmt(result.ceiling)} ops/s, ratio ${ratioOf(result).toFixed(2)} ` +
          `(target ≥ ${VERIFY_TARGET.toFixed(2)}) ${verdict(result)}`,
      )
      return result
    } finally {
      await floor.stop()
    }
  } finally {
    if (!given) {
      await service.stop()
      await service.removeData()
    }
  }
}

interface Counted {
  ops: number
  seconds: number
  /** Undefined where /proc cannot say. */
  cpuSeconds: number | undefined
}

/** One load round on a server in a child process, with the CPU that process spent on it. */
async function loadCounted(server: { url: string; pid: number }, credential: string): Promise<Counted> {
  const before = processCpuSeconds(server.pid)
  const { result } = await verifyLoad(server, credential, CONNECTIONS, ENDPOINT_S)
  const after = processCpuSeconds(server.pid)
  return { ops: result['2xx'], seconds: result.duration, cpuSeconds: before === undefined || after === undefined ? undefined : after - before }
}

/** Sums rounds; `add` answers that round's rate. */
function tally() {
  let ops = 0
  let seconds = 0
  let cpuSeconds: number | undefined = 0
  return {
    add(counted: Counted): number {
      ops += counted.ops
      seconds += counted.seconds
      cpuSeconds = cpuSeconds === undefined || counted.cpuSeconds === undefined ? undefined : cpuSeconds + counted.cpuSeconds
      return counted.ops / counted.seconds
    },
    rate: () => ops / seconds,
    perCpu: () => (cpuSeconds ? ops / cpuSeconds : undefined),
    coresBusy: () => (cpuSeconds ?? 0) / seconds,
  }
}

if (isMain(import.meta.url)) {
  const result = await benchVerify()
  if (missesTarget(result)) process.exitCode = 1
}
