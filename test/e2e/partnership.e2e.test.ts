import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest, type SigningKey } from '../../src/adapters/crypto/http-signatures'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import { importPkiBundle } from '../../src/adapters/crypto/pki-bundle'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { sampleTerms } from '../support/partner-pair'
import { call, startRegionProcess, type RegionProcess } from '../support/region-process'

/**
 * Two real regions as separate processes on 127.0.0.1, each with its own port, data directory,
 * keys and database: 赣州 (360700) and 深圳市龙岗区 (440307). They become partners the way the
 * README tells operators to: exchange root fingerprints out of band, register each other, one
 * proposes an agreement through its admin API and the other countersigns it with the CLI.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const database = process.env.DATABASE_URL ? 'postgresql' : 'pglite'
const GZ = { code: '360700', name: '赣州市' }
const LG = { code: '440307', name: '深圳市龙岗区' }

let gz: RegionProcess
let lg: RegionProcess
let gzKey: SigningKey
let credential: string
let licenceId: string
let hygieneCredential: string

/** The CLI as an operator runs it, with a region's environment. */
function tongban(region: RegionProcess, code: { code: string; name: string }, args: string[]) {
  const run = spawnSync(process.execPath, ['bin/tongban.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: region.dataDir, REGION_CODE: code.code, REGION_NAME: code.name, DATABASE_URL: '' },
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (run.error) throw run.error
  return run
}

/** What an operator reads off `tongban keys init` and tells the partner out of band. */
function rootFingerprint(region: RegionProcess, code: { code: string; name: string }): string {
  const run = tongban(region, code, ['keys', 'init'])
  expect(run.status, run.stderr).toBe(0)
  return /root sha256 ([0-9a-f]{64})/.exec(run.stdout)?.[1] as string
}

/** Sends 龙岗's partner API a request signed with 赣州's key, to be spoilt on the way. */
async function signedToLonggang(body: unknown, options: { signedAt?: Date; nonce?: string; sentBody?: unknown } = {}) {
  const url = `${lg.url}/v1/partner/verify`
  const bytes = new TextEncoder().encode(JSON.stringify(body))
  const headers = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url, body: bytes }, gzKey, options.signedAt ?? new Date(), options.nonce ?? `e2e-${crypto.randomUUID()}`)) }
  const sent = options.sentBody === undefined ? bytes : new TextEncoder().encode(JSON.stringify(options.sentBody))
  const response = await fetch(url, { method: 'POST', headers, body: sent })
  return { status: response.status, body: (await response.json()) as { code?: string; report?: { indication: string } }, headers: response.headers }
}

beforeAll(async () => {
  const env = { PARTNER_STATUS_MAX_AGE_S: '1' }
  ;[gz, lg] = await Promise.all([startRegionProcess({ region: GZ, env, database }), startRegionProcess({ region: LG, env, database })])
  const bundle = JSON.parse(readFileSync(join(gz.dataDir, 'keys', 'pki.json'), 'utf8'))
  const pki = await importPkiBundle(bundle)
  gzKey = { keyid: await kidOf(pki['partner-auth']!.certificate), privateKey: pki['partner-auth']!.privateKey! }

  const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00021'), name: '深圳龙岗端到端测试有限公司' }
  const issued = await call(lg, 'POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })
  expect(issued.status).toBe(201)
  credential = issued.body.credential as string
  licenceId = issued.body.id as string
  const hygiene = await call(lg, 'POST', '/v1/licences', {
    json: { type: 'public-place-hygiene-licence', holder, fields: { legalRepresentative: '李四', address: '深圳市龙岗区龙城街道', premisesType: '住宿场所', area: 900 }, validFrom: '2026-01-05', validUntil: '2030-01-04' },
  })
  expect(hygiene.status).toBe(201)
  hygieneCredential = hygiene.body.credential as string
}, 240_000)

afterAll(async () => {
  await Promise.all([gz?.destroy(), lg?.destroy()])
})

describe('two regions as separate processes', () => {
  it('register each other by descriptor URL and a root fingerprint exchanged out of band', async () => {
    const gzRoot = rootFingerprint(gz, GZ)
    const lgRoot = rootFingerprint(lg, LG)
    expect(gzRoot).not.toBe(lgRoot)
    const atGz = await call(gz, 'POST', '/v1/admin/partners', { json: { descriptorUrl: `${lg.url}/.well-known/tongban`, rootFingerprint: lgRoot } })
    expect(atGz.status, JSON.stringify(atGz.body)).toBe(201)
    const atLg = await call(lg, 'POST', '/v1/admin/partners', { json: { descriptorUrl: `${gz.url}/.well-known/tongban`, rootFingerprint: gzRoot } })
    expect(atLg.status, JSON.stringify(atLg.body)).toBe(201)
    const wrongPin = await call(gz, 'POST', '/v1/admin/partners', { json: { descriptorUrl: `${lg.url}/.well-known/tongban`, rootFingerprint: gzRoot } })
    expect(wrongPin.status).toBe(409)
  })

  it('before an agreement, 龙岗 refuses 赣州’s partner calls', async () => {
    expect(await signedToLonggang({ credential })).toMatchObject({ status: 403, body: { code: 'no_active_agreement' } })
  })

  it('sign an agreement: 赣州 proposes through its API, 龙岗 countersigns with the CLI and imports it', async () => {
    const proposed = await call(gz, 'POST', '/v1/admin/agreements', { json: sampleTerms() })
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201)
    expect(proposed.body).toMatchObject({ status: 'awaiting_partner', delivered: true })
    const atLg = await call(lg, 'GET', '/v1/admin/agreements/gz-lg-2027-01')
    expect(atLg.body.status).toBe('awaiting_us')
    const file = join(lg.dataDir, 'gz-lg-2027-01.jws.json')
    const signedFile = join(lg.dataDir, 'gz-lg-2027-01.signed.json')
    writeFileSync(file, JSON.stringify(atLg.body.jws))
    const signing = tongban(lg, LG, ['agreement', 'sign', file, '--out', signedFile])
    expect(signing.status, signing.stderr).toBe(0)
    expect(signing.stderr).toContain('signed agreement gz-lg-2027-01')
    const imported = await call(lg, 'POST', '/v1/admin/agreements/import', { json: { agreement: JSON.parse(readFileSync(signedFile, 'utf8')) } })
    expect(imported.status, JSON.stringify(imported.body)).toBe(200)
    expect(imported.body).toMatchObject({ status: 'active', signedBy: ['360700', '440307'], delivered: true })
    expect((await call(gz, 'GET', '/v1/admin/agreements/gz-lg-2027-01')).body).toMatchObject({ status: 'active', signedBy: ['360700', '440307'] })
  })

  it('赣州 verifies a 龙岗 licence locally, with 龙岗’s trust list and status list', async () => {
    const report = await call(gz, 'POST', '/v1/verify', { json: { credential }, token: null })
    expect(report.status).toBe(200)
    expect(report.body.indication).toBe('TOTAL_PASSED')
  })

  it('赣州 verifies it through 龙岗’s partner API: signed both ways, the agreed fields only', async () => {
    const asked = await call(gz, 'POST', '/v1/admin/partners/440307/verify', { json: { credential } })
    expect(asked.status, JSON.stringify(asked.body)).toBe(200)
    const answer = asked.body.answer as { report: { indication: string; licence: { fields: Record<string, unknown> } } }
    expect(asked.body.status).toBe(200)
    expect(answer.report.indication).toBe('TOTAL_PASSED')
    expect(answer.report.licence.fields).toHaveProperty('legalRepresentative')
    expect(answer.report.licence.fields).not.toHaveProperty('registeredCapital')
  })

  it('a licence type outside the agreement is refused', async () => {
    const asked = await call(gz, 'POST', '/v1/admin/partners/440307/verify', { json: { credential: hygieneCredential } })
    expect(asked.body.status).toBe(403)
    expect((asked.body.answer as { code: string }).code).toBe('outside_agreement')
  })

  it('a tampered body, an old timestamp and a replayed nonce are each refused', async () => {
    expect((await signedToLonggang({ credential })).status).toBe(200)
    expect(await signedToLonggang({ credential }, { sentBody: { credential: hygieneCredential } })).toMatchObject({ status: 401, body: { code: 'partner_digest_mismatch' } })
    expect(await signedToLonggang({ credential }, { signedAt: new Date(Date.now() - 10 * 60_000) })).toMatchObject({ status: 401, body: { code: 'partner_outside_clock_window' } })
    const nonce = `e2e-replay-${crypto.randomUUID()}`
    expect((await signedToLonggang({ credential }, { nonce })).status).toBe(200)
    expect(await signedToLonggang({ credential }, { nonce })).toMatchObject({ status: 401, body: { code: 'partner_replayed' } })
  })

  it('after 龙岗 revokes the licence, 赣州’s verification reports it revoked', async () => {
    const revoked = await call(lg, 'POST', `/v1/licences/${licenceId}/revoke`, { json: { reason: '以欺骗手段取得许可，依法撤销' } })
    expect(revoked.status).toBe(200)
    let report: Record<string, unknown> = {}
    for (let attempt = 0; attempt < 40; attempt++) {
      report = (await call(gz, 'POST', '/v1/verify', { json: { credential }, token: null })).body
      if (report.indication !== 'TOTAL_PASSED') break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(report.indication).toBe('TOTAL_FAILED')
    expect(JSON.stringify(report.checks)).toMatch(/revoked/i)
    const asked = await call(gz, 'POST', '/v1/admin/partners/440307/verify', { json: { credential } })
    expect((asked.body.answer as { report: { indication: string } }).report.indication).toBe('TOTAL_FAILED')
  })

  it('after 赣州 terminates the agreement, partner calls are refused on both sides', async () => {
    const terminated = await call(gz, 'POST', '/v1/admin/agreements/gz-lg-2027-01/termination', { json: { reason: '合作期满' } })
    expect(terminated.status).toBe(200)
    expect(terminated.body).toMatchObject({ status: 'terminated', delivered: true })
    expect((await call(lg, 'GET', '/v1/admin/agreements/gz-lg-2027-01')).body).toMatchObject({ status: 'terminated', termination: { by: '360700' } })
    const fromGz = await call(gz, 'POST', '/v1/admin/partners/440307/verify', { json: { credential } })
    expect(fromGz).toMatchObject({ status: 403, body: { code: 'no_active_agreement' } })
    expect(await signedToLonggang({ credential })).toMatchObject({ status: 403, body: { code: 'no_active_agreement' } })
  })

  it('both audit logs hold every call, intact, and extend the checkpoints they sign', async () => {
    for (const region of [gz, lg]) {
      const checkpoint = await call(region, 'GET', '/v1/audit/checkpoint', { token: null })
      expect(checkpoint.status).toBe(200)
      const verdict = await call(region, 'POST', '/v1/admin/audit/verification', { json: { checkpoint: checkpoint.body.checkpoint } })
      expect(verdict.body).toMatchObject({ intact: true, checkpoint: { extended: true } })
      expect(verdict.body.size as number).toBeGreaterThan(5)
    }
    const refused = await call(lg, 'GET', '/v1/admin/audit/entries?kind=partner_call&limit=1000')
    const codes = (refused.body.entries as Array<{ detail: { code: string | null } }>).map((entry) => entry.detail.code)
    expect(codes).toEqual(expect.arrayContaining(['partner_digest_mismatch', 'partner_outside_clock_window', 'partner_replayed', 'outside_agreement', 'no_active_agreement']))
  })
})
