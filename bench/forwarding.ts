import { withUsccCheck } from '../src/core/licence/uscc'
import { establishmentForLonggang, uploadAttachments } from '../test/support/applications'
import { businessLicenceRequest } from '../test/support/fixtures'
import { must, startPartneredRegions } from '../test/support/partnered-processes'
import { call, type RegionProcess } from '../test/support/region-process'
import { isMain, loadNote, log, median, type BenchResult } from './support/measure'

/**
 * 异地受理 throughput: applications registered at 赣州's window for 龙岗 and forwarded through
 * 赣州's outbox (each a signed partner call, checked, stored once and acknowledged by 龙岗),
 * against the same number of signed partner verify calls between the same two processes in
 * the same run, from the same number of clients. A batch counts from its first registration
 * until 龙岗 holds every application of it; a forward does more than a verify (a transaction on
 * each side, the identity check signed and checked), so the ratio says what that costs. The
 * issue names no target: the ratio is printed.
 */
const DATABASE = process.env.BENCH_DATABASE === 'postgresql' ? 'postgresql' : 'pglite'
const BATCH = Number(process.env.BENCH_FORWARD_BATCH ?? 200)
const CLIENTS = 8
const ROUNDS = 3

/** Runs `op(i)` for i < n from `clients` loops at once. */
async function fanOut(n: number, clients: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < n; i = next++) await op(i)
    }),
  )
}

/** Waits until 龙岗 holds each of `ids`, polling in order; a bounded wait, so a lost forward fails the bench. */
async function arrived(lg: RegionProcess, ids: string[], deadline: number): Promise<void> {
  for (const id of ids) {
    for (;;) {
      const { status, body } = await call(lg, 'GET', `/v1/applications/${id}`)
      if (status === 200) break
      if (status !== 404) throw new Error(`龙岗 answered ${status} for ${id}: ${JSON.stringify(body)}`)
      if (performance.now() > deadline) throw new Error(`application ${id} had not reached 龙岗 in time`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
}

/** Waits until 龙岗 holds the documents each of `ids` names (fetched from 赣州); a bounded wait. */
async function documentsHeld(lg: RegionProcess, ids: string[], deadline: number): Promise<void> {
  await arrived(lg, ids, deadline)
  for (const id of ids) {
    for (;;) {
      const { body } = await call(lg, 'GET', `/v1/applications/${id}`)
      if ((body.attachments as Array<{ held: boolean }>).every((a) => a.held)) break
      if (performance.now() > deadline) throw new Error(`龙岗 had not fetched the documents of ${id} in time`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

async function forwardBatch(gz: RegionProcess, lg: RegionProcess): Promise<number> {
  const ids: string[] = new Array<string>(BATCH)
  const start = performance.now()
  await fanOut(BATCH, CLIENTS, async (i) => {
    const created = await must(call(gz, 'POST', '/v1/applications', { json: establishmentForLonggang() }), 201, 'registering an application for 龙岗')
    ids[i] = created.id as string
  })
  await arrived(lg, ids, start + 120_000)
  return BATCH / ((performance.now() - start) / 1000)
}

async function verifyBatch(gz: RegionProcess, credential: string): Promise<number> {
  const start = performance.now()
  await fanOut(BATCH, CLIENTS, async () => {
    const answer = await must(call(gz, 'POST', '/v1/admin/partners/440307/verify', { json: { credential } }), 200, 'a partner verify')
    if (answer.status !== 200) throw new Error(`the partner verify was not answered 200: ${JSON.stringify(answer)}`)
  })
  return BATCH / ((performance.now() - start) / 1000)
}

export async function benchForwarding(): Promise<BenchResult> {
  log(`forwarding: ${loadNote()}`)
  const { gz, lg } = await startPartneredRegions({
    terms: { id: 'bench-forwarding', rateLimit: { requests: 1_000_000, perSeconds: 1 } },
    gz: { logLevel: 'warn', database: DATABASE },
    lg: { logLevel: 'warn', database: DATABASE },
  })
  try {
    const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00041'), name: '深圳龙岗转办基准有限公司' }
    const credential = (await must(call(lg, 'POST', '/v1/licences', { json: businessLicenceRequest({ holder }) }), 201, 'issuing')).credential as string
    // Every application names the same documents, uploaded once.
    await uploadAttachments(gz, establishmentForLonggang().attachments)
    // Warm both paths (JIT, connections, caches) before anything is counted.
    const warming: string[] = []
    await fanOut(40, CLIENTS, async () => void warming.push((await must(call(gz, 'POST', '/v1/applications', { json: establishmentForLonggang() }), 201, 'warming up')).id as string))
    await verifyBatch(gz, credential)
    // 龙岗 has fetched the documents by now, so the forwards counted below are forwards, not document transfers.
    await documentsHeld(lg, warming, performance.now() + 60_000)
    const forwards: number[] = []
    const verifies: number[] = []
    // Rounds alternate the two, so a burst of other work on the machine falls on both.
    for (let round = 0; round < ROUNDS; round++) {
      forwards.push(await forwardBatch(gz, lg))
      verifies.push(await verifyBatch(gz, credential))
    }
    const result: BenchResult = {
      name: `forwarding (${DATABASE})`,
      rate: median(forwards),
      unit: 'applications/s',
      ceiling: median(verifies),
      ceilingName: `signed partner verify calls, ${CLIENTS} clients`,
    }
    log(`forwarding: per round, forwarded and acknowledged / partner verify calls per second: ${forwards.map((f, i) => `${f.toFixed(0)}/${(verifies[i] as number).toFixed(0)}`).join(', ')}`)
    log(`forwarding: ${result.rate.toFixed(0)} applications/s forwarded and acknowledged, ${result.ceiling.toFixed(0)} partner verify calls/s, ratio ${(result.rate / result.ceiling).toFixed(2)} (batches of ${BATCH}, ${CLIENTS} clients, ${DATABASE})`)
    return result
  } finally {
    await Promise.all([gz.destroy(), lg.destroy()])
  }
}

if (isMain(import.meta.url)) await benchForwarding()
