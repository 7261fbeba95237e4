import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { establishmentForLonggang, uploadAttachments } from '../support/applications'
import { agreedPart, approval } from '../support/cross-region'
import { must, startPartneredRegions } from '../support/partnered-processes'
import { eventStepOf, startPartnerProxy, type PartnerProxy } from '../support/partner-proxy'
import { call, freePort, type RegionProcess } from '../support/region-process'
import { until } from '../support/until'

/**
 * 异地受理、远程办理 between two real region processes on 127.0.0.1, each on its own database,
 * with their partners stopped, killed and restarted in the middle: nothing is lost, nothing is
 * taken twice, and both sides end with the same timeline.
 */
const database = process.env.DATABASE_URL ? 'postgresql' : 'pglite'
// Retries come quickly, so a region that is back is reached within seconds.
const env = { OUTBOX_RETRY_BASE_S: '1', OUTBOX_RETRY_CAP_S: '2' }
let gz: RegionProcess
let lg: RegionProcess

let toGz: PartnerProxy
let toLg: PartnerProxy

beforeAll(async () => {
  // Each region is reached by the other through a proxy, the network between them, which tests can make lose or refuse a request.
  ;[toGz, toLg] = await Promise.all([startPartnerProxy(), startPartnerProxy()])
  const [gzPort, lgPort] = await Promise.all([freePort(), freePort()])
  toGz.target = `http://127.0.0.1:${gzPort}`
  toLg.target = `http://127.0.0.1:${lgPort}`
  ;({ gz, lg } = await startPartneredRegions({
    terms: { rateLimit: { requests: 1_000_000, perSeconds: 60 } },
    gz: { database, env, port: gzPort, publicUrl: toGz.url },
    lg: { database, env, port: lgPort, publicUrl: toLg.url },
  }))
  // Every application names the same documents, scanned in at 赣州's window once.
  await uploadAttachments(gz, establishmentForLonggang().attachments)
}, 300_000)
afterAll(async () => {
  await Promise.all([gz?.destroy(), lg?.destroy()])
  await Promise.all([toGz?.close(), toLg?.close()])
})

interface View {
  id: string
  status: string
  attachments: Array<{ sha256: string; held: boolean }>
  timeline: Array<Record<string, unknown> & { sequence: number; action: string }>
  collection: { state: string; verification: unknown; lastError: string | null } | null
  messages: Array<{ topic: string; state: string; attempts: number; lastError: string | null }>
}

const view = async (region: RegionProcess, id: string): Promise<View | undefined> => {
  const answer = await call(region, 'GET', `/v1/applications/${id}`)
  return answer.status === 200 ? (answer.body as unknown as View) : undefined
}

const documentsHeld = (v: View | undefined) => !!v && v.attachments.every((a) => a.held)

/** How delivery of 赣州's messages to 龙岗 stands (GET /v1/admin/partners). */
async function toLonggang(): Promise<{ pending: number; delivered: number; abandoned: number }> {
  const partners = (await must(call(gz, 'GET', '/v1/admin/partners'), 200, 'listing 赣州’s partners')).partners as Array<{ code: string; delivery: { pending: number; delivered: number; abandoned: number } }>
  return partners.find((p) => p.code === '440307')?.delivery as { pending: number; delivered: number; abandoned: number }
}

const accept = async (n: number) => (await must(call(gz, 'POST', '/v1/applications', { json: establishmentForLonggang({ form: { ...establishmentForLonggang().form, enterpriseName: `龙岗通办${n}科技有限公司` } }) }), 201, 'accepting at 赣州')).id as string
const decide = (id: string, decision: Record<string, unknown>) => must(call(lg, 'POST', `/v1/applications/${id}/decisions`, { json: decision }), 200, `${String(decision.action)} at 龙岗`)

/** Both regions hold the application with the same status and timeline; returns 赣州's view. */
async function agreeOn(id: string): Promise<View> {
  return until(
    `赣州 and 龙岗 agree on ${id}`,
    async () => [await view(gz, id), await view(lg, id)] as const,
    ([here, there]) => !!here && !!there && here.status === there.status && JSON.stringify(here.timeline.map(agreedPart)) === JSON.stringify(there.timeline.map(agreedPart)),
  ).then(([here]) => here as View)
}

describe('the handling region stopped and restarted mid-flow', () => {
  it('loses nothing and takes nothing twice: both sides end in the same states, and approved licences are collected, then handed over only while they still verify', async () => {
    const first = await Promise.all([1, 2, 3, 4].map(accept))
    // 龙岗 fetches their documents from 赣州 before anything is approved.
    await until('龙岗 holds the first four and their documents', () => Promise.all(first.map((id) => view(lg, id))), (views) => views.every(documentsHeld))
    for (const id of first) await decide(id, { action: 'accept' })

    await lg.stop()
    const second = await Promise.all([5, 6, 7].map(accept))
    // A withdrawal asked at 赣州's window while 龙岗 is down waits in 赣州's outbox.
    expect((await call(gz, 'POST', `/v1/applications/${first[3]}/decisions`, { json: { action: 'withdraw', reason: '申请人撤回' } })).status).toBe(202)
    await lg.start()

    await until('龙岗 holds all seven', () => Promise.all([...first, ...second].map((id) => view(lg, id))), (views) => views.every(Boolean))
    await decide(first[0] as string, { action: 'review' })
    await decide(first[0] as string, approval(700))
    await decide(first[1] as string, { action: 'reject', reason: '名称不符合规定' })
    // 赣州 goes down while 龙岗 keeps deciding: these events wait in 龙岗's outbox.
    await gz.stop()
    await decide(second[0] as string, { action: 'accept' })
    await decide(second[0] as string, { action: 'review' })
    await decide(second[0] as string, approval(701))
    await decide(second[1] as string, { action: 'request-more', missing: ['股东身份证明'] })
    await gz.start()

    const expected: Record<string, string> = {
      [first[0] as string]: 'approved',
      [first[1] as string]: 'rejected',
      [first[2] as string]: 'accepted',
      [first[3] as string]: 'withdrawn',
      [second[0] as string]: 'approved',
      [second[1] as string]: 'more_requested',
      [second[2] as string]: 'received',
    }
    for (const [id, status] of Object.entries(expected)) {
      const here = await agreeOn(id)
      expect(here.status, id).toBe(status)
      // Each step once, numbered without gaps, on both sides.
      expect(here.timeline.map((e) => e.sequence)).toEqual(here.timeline.map((_, i) => i + 1))
      expect(here.timeline.filter((e) => e.action === 'submit')).toHaveLength(1)
    }
    for (const id of [first[0], second[0]] as string[]) {
      const collected = await until(`赣州 collects the licence of ${id}`, () => view(gz, id), (v) => v?.collection?.state === 'ready')
      expect(collected?.collection).toMatchObject({ verification: { pdf: { indication: 'TOTAL_PASSED' }, credential: { indication: 'TOTAL_PASSED' } } })
    }
    // The window hands the first licence over. The second, revoked at 龙岗 after it was collected, it
    // refuses: the hand-over fetches 龙岗's status list again rather than trust the copy it holds.
    expect((await call(gz, 'POST', `/v1/applications/${first[0]}/collection/hand-over`)).status).toBe(200)
    const approved = (await view(lg, second[0] as string))?.timeline.find((e) => e.action === 'approve')?.detail as { licence: { id: string } }
    expect((await call(lg, 'POST', `/v1/licences/${approved.licence.id}/revoke`, { json: { reason: '登记事项有误' } })).status).toBe(200)
    const refused = await call(gz, 'POST', `/v1/applications/${second[0]}/collection/hand-over`)
    expect([refused.status, refused.body.code]).toEqual([409, 'collected_licence_not_valid'])
    // Nothing 赣州 sent was given up on.
    for (const id of Object.keys(expected)) expect((await view(gz, id))?.messages.every((m) => m.state === 'delivered'), id).toBe(true)
  }, 300_000)
})

describe('deliveries repeated and out of order between the two processes', () => {
  it('takes a forward whose answer was lost once, keeps a repeated event once, and ends right when a later event overtakes an earlier one', async () => {
    // The network loses 龙岗's answer to the first delivery of this forward: 赣州 delivers it again.
    const forwardsOf = (id: string) => toLg.seen.filter((r) => r.path === '/v1/partner/applications' && (JSON.parse(r.body.toString()) as { application: { id: string } }).application.id === id)
    let lost = false
    toLg.rule = (r) => (r.path === '/v1/partner/applications' && !lost ? ((lost = true), 'lose-answer') : 'pass')
    const id = await accept(720)
    const delivered = await until('赣州 delivered the forward', () => view(gz, id), (v) => v?.messages.find((m) => m.topic === 'application.forward')?.state === 'delivered')
    expect(delivered?.messages.find((m) => m.topic === 'application.forward')?.attempts).toBe(2)
    expect(forwardsOf(id).map((r) => [r.action, r.answer?.status])).toEqual([
      ['lose-answer', 201],
      ['pass', 201],
    ])
    expect(await until('龙岗 holds it and its documents', () => view(lg, id), documentsHeld)).toMatchObject({ status: 'received', timeline: [{ sequence: 1, action: 'submit' }] })

    // Step 2 is refused on its first delivery, and the answer to step 3's first delivery is lost.
    const tries = new Map<number, number>()
    toGz.rule = (r) => {
      const step = eventStepOf(r)
      if (step?.applicationId !== id) return 'pass'
      const n = (tries.get(step.sequence) ?? 0) + 1
      tries.set(step.sequence, n)
      if (step.sequence === 2 && n === 1) return 'refuse'
      if (step.sequence === 3 && n === 1) return 'lose-answer'
      return 'pass'
    }
    await decide(id, { action: 'accept' })
    await until('step 2 was refused once', async () => tries.get(2) ?? 0, (n) => n >= 1)
    await decide(id, { action: 'review' })
    const here = await agreeOn(id)
    // 龙岗 hears 赣州's answer to each step in the end: step 3's second delivery follows the first, whose answer was lost.
    await until('龙岗 delivered every event', () => view(lg, id), (v) => v?.messages.filter((m) => m.topic === 'application.event').every((m) => m.state === 'delivered') === true)
    toGz.rule = () => 'pass'
    expect(here.status).toBe('in_review')
    expect(here.timeline.map((e) => e.action)).toEqual(['submit', 'accept', 'review'])

    const arrivals = toGz.seen.filter((r) => eventStepOf(r)?.applicationId === id && r.action !== 'refuse')
    // Step 3 reached 赣州 before step 2 did, and twice; 赣州 kept it once and said so the second time.
    expect(arrivals.map((r) => eventStepOf(r)?.sequence).sort()).toEqual([2, 3, 3])
    expect(eventStepOf(arrivals[0] as (typeof arrivals)[number])?.sequence).toBe(3)
    expect(arrivals.filter((r) => eventStepOf(r)?.sequence === 3).map((r) => JSON.parse(r.answer?.body ?? '{}').duplicate)).toEqual([false, true])
  }, 300_000)
})

describe('a crash between writing a decision and sending its event', () => {
  it('sends the event after the handling region is restarted', async () => {
    const id = await accept(710)
    await until('龙岗 holds it and its documents', () => view(lg, id), documentsHeld)
    // 赣州 is down, so 龙岗 can write the approval but not send its events; then 龙岗 crashes.
    await gz.stop()
    await decide(id, { action: 'accept' })
    await decide(id, { action: 'review' })
    await decide(id, approval(710))
    // Each event was tried and refused: committed, not delivered. (Killed mid-send, a message would wait out its 60 s lease.)
    await until('龙岗 has tried to send each event', () => view(lg, id), (v) => v?.messages.filter((m) => m.topic === 'application.event' && m.state === 'pending' && m.attempts >= 1 && m.lastError).length === 3)
    await lg.kill()
    await gz.start()
    expect((await view(gz, id))?.status).toBe('received')

    await lg.start()
    const here = await agreeOn(id)
    expect(here.status).toBe('approved')
    expect(here.timeline.map((e) => e.action)).toEqual(['submit', 'accept', 'review', 'approve'])
    await until('赣州 collects the licence', () => view(gz, id), (v) => v?.collection?.state === 'ready')
  }, 300_000)
})

describe('1,000 applications forwarded while the handling region restarts once', () => {
  it('all arrive, each exactly once', async () => {
    const count = 1000
    const deliveredBefore = (await toLonggang()).delivered
    const ids: string[] = []
    let next = 0
    let stopped: Promise<void> | undefined
    let restarted: Promise<void> | undefined
    // 龙岗 is started again only once a forward has reached the network and found it gone, so the
    // restart interrupts forwarding however far 赣州's outbox had got when it stopped.
    const startOnceAForwardFails = async () => {
      const from = toLg.seen.length
      await until('a forward tried while 龙岗 is down', async () => ({ tried: toLg.seen.slice(from).some((r) => r.method === 'POST' && r.path === '/v1/partner/applications'), delivery: await toLonggang() }), (x) => x.tried, 60_000)
      await lg.start()
    }
    // Eight window clerks at 赣州; 龙岗 is stopped when a third have been accepted, and the clerks
    // go on once it is down, so the rest are forwarded to a region that is away for a while.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          await stopped
          const n = next++
          ids.push(await accept(10_000 + n))
          if (ids.length === Math.floor(count / 3)) {
            stopped = lg.stop()
            restarted = stopped.then(startOnceAForwardFails)
          }
        }
      }),
    )
    await restarted
    expect(new Set(ids).size).toBe(count)

    const delivery = await until('赣州 has delivered every forward', toLonggang, (d) => d.pending === 0 && d.delivered - deliveredBefore >= count, 240_000)
    expect(delivery).toMatchObject({ delivered: deliveredBefore + count, abandoned: 0 })
    const forwards = await Promise.all(ids.map(async (id) => (await view(gz, id))?.messages.find((m) => m.topic === 'application.forward')))
    expect(forwards.every((m) => m?.state === 'delivered')).toBe(true)
    // The restart did interrupt forwarding: some forwards needed more than one attempt.
    expect(forwards.filter((m) => (m?.attempts ?? 0) > 1).length).toBeGreaterThan(0)
    const there = await Promise.all(ids.map((id) => view(lg, id)))
    expect(there.filter(Boolean)).toHaveLength(count)
    // Once each: one application per id, holding one step, whatever the outbox delivered twice.
    expect(there.every((v) => v?.timeline.length === 1 && v.timeline[0]?.action === 'submit')).toBe(true)
  }, 400_000)
})
