import { withUsccCheck } from '../src/core/licence/uscc'
import { businessLicenceRequest } from '../test/support/fixtures'
import { createPartnerPair, registerBoth, agreeBoth, sampleTerms } from '../test/support/partner-pair'
const pair = await createPartnerPair()
await registerBoth(pair)
await agreeBoth(pair, sampleTerms({ rateLimit: { requests: 1000000, perSeconds: 1 } }))
const credential = ((await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00031'), name: '深圳' } }) })).json()) as any).credential
const timers: Record<string, number> = {}
const wrap = (obj: any, name: string, label: string) => { const f = obj[name].bind(obj); obj[name] = async (...a: any[]) => { const t = performance.now(); try { return await f(...a) } finally { timers[label] = (timers[label] ?? 0) + performance.now() - t } } }
wrap(pair.lg.deps.partners.nonces, 'claimNonce', 'lg nonce')
wrap(pair.lg.deps.partners, 'record', 'lg record')
wrap(pair.gz.deps.partners, 'record', 'gz record')
wrap(pair.lg.deps.licenceUses, 'record', 'lg uses')
const N = Number(process.env.N ?? 200)
for (const [name, side, path] of [['partner', 'gz', '/v1/admin/partners/440307/verify'], ['local', 'gz', '/v1/verify'], ['lg-local', 'lg', '/v1/verify']] as const) {
  for (let i = 0; i < 20; i++) await pair[side].request('POST', path, { json: { credential } })
  for (const k of Object.keys(timers)) delete timers[k]
  const c0 = process.cpuUsage(); const t0 = performance.now()
  for (let i = 0; i < N; i++) { const r = await pair[side].request('POST', path, { json: { credential } }); if (r.status !== 200) throw new Error(await r.text()) }
  const c = process.cpuUsage(c0)
  console.log(name, ((performance.now() - t0) / N).toFixed(2), 'ms wall', ((c.user + c.system) / 1000 / N).toFixed(2), 'ms cpu', Object.entries(timers).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join(', '))
}
await pair.close()
