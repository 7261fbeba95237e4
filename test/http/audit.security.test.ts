import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as josePkg from 'jose'
import { CHECKPOINT_TYP } from '../../src/core/audit/audit-chain'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { joseVerify } from '../support/jose-cli'
import { createPartnerPair, registerBoth, scopeOf, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
let credential: string

type Verdict = { intact: boolean; size: number; head?: string; brokenAt?: number; problem?: string; checkpoint?: { extended: boolean; problem?: string } }
type Entry = { seq: number; kind: string; detail: Record<string, unknown>; prevHash: string; hash: string }

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  pair.lg.deps.partners.scope = scopeOf({ '360700': { 'business-licence': ['entityType'] } })
  pair.gz.deps.partners.scope = scopeOf({ '440307': {} })
  const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00003'), name: '深圳龙岗审计测试有限公司' }
  credential = ((await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })).json()) as { credential: string }).credential
  for (let i = 0; i < 3; i++) {
    const asked = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { credential } })
    expect(asked.status).toBe(200)
  }
})
afterAll(() => pair.close())

const verification = async (checkpoint?: string) =>
  (await (await pair.lg.request('POST', '/v1/admin/audit/verification', { json: checkpoint ? { checkpoint } : {} })).json()) as Verdict

/** The tampering an attacker with database access could do, around the append-only trigger. */
async function behindTheTrigger(sql: string, params: unknown[]) {
  await pair.lg.db.exec('ALTER TABLE audit_entries DISABLE TRIGGER USER')
  try {
    await pair.lg.db.query(sql, params)
  } finally {
    await pair.lg.db.exec('ALTER TABLE audit_entries ENABLE TRIGGER USER')
  }
}

describe('the audit log', () => {
  it('records every partner call on both sides, chained from the genesis hash', async () => {
    const lgEntries = ((await (await pair.lg.request('GET', '/v1/admin/audit/entries?kind=partner_call')).json()) as { entries: Entry[] }).entries
    const gzEntries = ((await (await pair.gz.request('GET', '/v1/admin/audit/entries?kind=partner_call')).json()) as { entries: Entry[] }).entries
    expect(lgEntries.filter((e) => e.detail.direction === 'in' && e.detail.partner === '360700' && e.detail.path === '/v1/partner/verify')).toHaveLength(3)
    expect(gzEntries.filter((e) => e.detail.direction === 'out' && e.detail.partner === '440307' && e.detail.status === 200)).toHaveLength(3)
    const first = ((await (await pair.lg.request('GET', '/v1/admin/audit/entries?from=1&limit=1')).json()) as { entries: Entry[] }).entries[0]
    expect(first?.prevHash).toBe('0'.repeat(64))
    expect(await verification()).toMatchObject({ intact: true })
  })

  it('serves a checkpoint signed by the attestation key of the trust list, which a second JOSE library verifies', async () => {
    const response = await pair.lg.request('GET', '/v1/audit/checkpoint', { token: null })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { checkpoint: string; size: number; head: string; iss: string }
    const key = pair.lg.pki['attestation-signer']
    const jwk = await josePkg.exportJWK(await crypto.subtle.importKey('spki', new Uint8Array(key.certificate.publicKey.rawData), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']))
    const run = joseVerify(body.checkpoint, jwk)
    expect(run.status, run.stderr).toBe(0)
    const payload = JSON.parse(run.stdout) as { size: number; head: string; iss: string }
    expect(payload).toMatchObject({ size: body.size, head: body.head, iss: '440307' })
    expect(josePkg.decodeProtectedHeader(body.checkpoint).typ).toBe(CHECKPOINT_TYP)
  })

  it('refuses UPDATE, DELETE and TRUNCATE from the database itself', async () => {
    await expect(pair.lg.db.query("UPDATE audit_entries SET kind = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/)
    await expect(pair.lg.db.query('DELETE FROM audit_entries WHERE seq = 1')).rejects.toThrow(/append-only/)
    await expect(pair.lg.db.exec('TRUNCATE audit_entries')).rejects.toThrow(/append-only/)
  })

  it('detects a changed old entry, naming it', async () => {
    const entries = ((await (await pair.lg.request('GET', '/v1/admin/audit/entries?kind=partner_call')).json()) as { entries: Entry[] }).entries
    const target = entries[0] as Entry
    await behindTheTrigger(`UPDATE audit_entries SET detail = jsonb_set(detail, '{status}', '403') WHERE seq = $1`, [target.seq])
    const verdict = await verification()
    expect(verdict).toMatchObject({ intact: false, brokenAt: target.seq })
    expect(verdict.problem).toMatch(/changed/)
    await behindTheTrigger(`UPDATE audit_entries SET detail = jsonb_set(detail, '{status}', '200') WHERE seq = $1`, [target.seq])
    expect(await verification()).toMatchObject({ intact: true })
  })

  it('detects a changed entry whose hash was recomputed: the next entry no longer links to it', async () => {
    const entries = ((await (await pair.lg.request('GET', '/v1/admin/audit/entries')).json()) as { entries: Entry[] }).entries
    const target = entries[1] as Entry
    const { entryHash } = await import('../../src/core/audit/audit-chain')
    const [row] = await pair.lg.db.query<{ at: string }>('SELECT at FROM audit_entries WHERE seq = $1', [target.seq])
    const forged = { ...target.detail, status: 418 }
    const forgedHash = await entryHash({ seq: target.seq, at: row!.at, kind: target.kind, detail: forged }, target.prevHash)
    await behindTheTrigger('UPDATE audit_entries SET detail = $2::jsonb, hash = $3 WHERE seq = $1', [target.seq, JSON.stringify(forged), forgedHash])
    expect(await verification()).toMatchObject({ intact: false, brokenAt: target.seq + 1 })
    await behindTheTrigger('UPDATE audit_entries SET detail = $2::jsonb, hash = $3 WHERE seq = $1', [target.seq, JSON.stringify(target.detail), target.hash])
    expect(await verification()).toMatchObject({ intact: true })
  })

  it('detects a deleted old entry, and a deleted tail against a checkpoint signed before', async () => {
    const { checkpoint, size } = (await (await pair.lg.request('GET', '/v1/audit/checkpoint')).json()) as { checkpoint: string; size: number }
    expect(await verification(checkpoint)).toMatchObject({ intact: true, checkpoint: { extended: true } })
    await behindTheTrigger('DELETE FROM audit_entries WHERE seq = $1', [size])
    const cut = await verification(checkpoint)
    expect(cut).toMatchObject({ intact: true, size: size - 1, checkpoint: { extended: false } })
    expect(cut.checkpoint?.problem).toMatch(/fewer/)
    await behindTheTrigger('DELETE FROM audit_entries WHERE seq = $1', [1])
    const gap = await verification()
    expect(gap).toMatchObject({ intact: false, brokenAt: 1 })
    expect(gap.problem).toMatch(/missing/)
  })

  it('refuses a checkpoint that this region did not sign', async () => {
    const other = (await (await pair.gz.request('GET', '/v1/audit/checkpoint')).json()) as { checkpoint: string }
    const response = await pair.lg.request('POST', '/v1/admin/audit/verification', { json: { checkpoint: other.checkpoint } })
    expect(response.status).toBe(422)
    expect(((await response.json()) as { code: string }).code).toBe('invalid_checkpoint')
  })

  it('keeps its entries from anyone without the admin token', async () => {
    for (const [method, path] of [['GET', '/v1/admin/audit/entries'], ['POST', '/v1/admin/audit/verification']] as const) {
      const response = await pair.lg.request(method, path, { token: null, ...(method === 'POST' ? { json: {} } : {}) })
      expect(response.status).toBe(401)
    }
  })
})
