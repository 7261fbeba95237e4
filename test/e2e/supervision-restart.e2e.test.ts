import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { businessLicenceRequest, testUscc } from '../support/fixtures'
import { call, startRegionProcess, type RegionProcess } from '../support/region-process'
import { startSupervisionReceiver, supervisionKeyPair, type SupervisionReceiver } from '../support/supervision-receiver'
import { until } from '../support/until'

/**
 * The service as a real child process, killed (SIGKILL, as a crash) while its supervision
 * webhook is down: the events it had committed but not delivered go out after it is started
 * again on the same data, each once, numbered without gaps.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NAME = '赣州市市场监督管理局'
let region: RegionProcess
let receiver: SupervisionReceiver

beforeAll(async () => {
  region = await startRegionProcess({ database: process.env.DATABASE_URL ? 'postgresql' : 'pglite', env: { OUTBOX_RETRY_BASE_S: '1', OUTBOX_RETRY_CAP_S: '1' } })
  // The root fingerprint as the operator reads it off `tongban keys init` and hands it to the supervision department.
  const keys = spawnSync(process.execPath, ['bin/tongban.mjs', 'keys', 'init'], { cwd: ROOT, env: { ...process.env, DATA_DIR: region.dataDir, DATABASE_URL: '' }, encoding: 'utf8', timeout: 60_000 })
  const rootFingerprint = /root sha256 ([0-9a-f]{64})/.exec(keys.stdout)?.[1]
  expect(rootFingerprint, keys.stderr).toMatch(/^[0-9a-f]{64}$/)
  receiver = await startSupervisionReceiver({ name: NAME, trustList: async () => (await fetch(`${region.url}/v1/trust-list`)).text(), rootFingerprint: rootFingerprint as string })
}, 240_000)
afterAll(async () => {
  await region?.destroy()
  await receiver?.close()
})

describe('supervision events survive a crash of the service', () => {
  it('events committed while the webhook was down are delivered after a kill and a restart, each once', async () => {
    receiver.mode = 'down'
    const { publicJwk } = await supervisionKeyPair()
    const registered = await call(region, 'POST', '/v1/admin/supervision', { json: { name: NAME, webhookUrl: receiver.url, publicKey: publicJwk } })
    expect(registered.status).toBe(201)
    const ids: string[] = []
    for (const n of [301, 302, 303]) {
      const issued = await call(region, 'POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: testUscc(n), name: `重启测试${n}有限公司` } }) })
      expect(issued.status).toBe(201)
      ids.push(issued.body.id as string)
    }
    expect((await call(region, 'POST', `/v1/licences/${ids[0]}/suspend`, { json: { reason: '检查' } })).status).toBe(200)
    // Every event was tried at least once and refused: they are committed, not delivered.
    await receiver.waitFor((r) => r.arrivals >= 4, 30_000)
    const before = await call(region, 'GET', '/v1/admin/supervision')
    expect((before.body.systems as Array<{ delivery: { pending: number; delivered: number } }>)[0]?.delivery).toMatchObject({ pending: 4, delivered: 0 })

    await region.kill()
    receiver.mode = 'up'
    const arrivalsWhileDead = receiver.arrivals
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(receiver.arrivals).toBe(arrivalsWhileDead)
    expect(receiver.events).toEqual([])

    await region.start()
    await receiver.waitFor((r) => r.events.length === 4, 60_000)
    const events = [...receiver.events].sort((a, b) => a.seq - b.seq)
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4])
    expect(events.map((e) => e.type)).toEqual(['licence.issued', 'licence.issued', 'licence.issued', 'licence.suspended'])
    expect(events.map((e) => e.licence.id)).toEqual([...ids, ids[0]])
    expect(receiver.refused).toEqual([])
    // The receiver answers before the service records the delivery, so the count catches up a moment later.
    const delivery = await until(
      'the service has recorded its deliveries',
      async () => ((await call(region, 'GET', '/v1/admin/supervision')).body.systems as Array<{ delivery: { pending: number; delivered: number } }>)[0]?.delivery,
      (d) => d?.pending === 0,
      30_000,
    )
    expect(delivery).toMatchObject({ pending: 0, delivered: 4 })
    // Nothing more arrives: delivered events are not sent again.
    const arrivals = receiver.arrivals
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(receiver.arrivals).toBe(arrivals)
  }, 180_000)
})
