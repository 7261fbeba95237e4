import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { testUscc } from '../support/fixtures'
import { makePdf, nssDbTrusting, pdfsig, tempDir } from '../adapters/pdf/pades-fixtures'

describe('enterprise seals', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  async function open(n: number, name: string) {
    const response = await t.request('POST', `/v1/enterprises/${testUscc(n)}/seals`, { json: { enterpriseName: name, set: 'opening' } })
    expect(response.status).toBe(201)
    return response.json()
  }

  it('makes the three seals of enterprise opening in one go, with one credential for the enterprise', async () => {
    const opened = await open(11, '赣州开办测试有限公司')
    expect(opened.seals.map((s: { kind: string }) => s.kind)).toEqual(['official', 'finance', 'invoice'])
    expect(opened.seals.map((s: { name: string }) => s.name)).toEqual(['赣州开办测试有限公司', '赣州开办测试有限公司财务专用章', '赣州开办测试有限公司发票专用章'])
    expect(opened.enterpriseCredential).toMatch(/^tbe_/)

    const seal = opened.seals[0]
    const dir = tempDir()
    writeFileSync(join(dir, 'seal.der'), Buffer.from(seal.certificate, 'base64'))
    const subject = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(dir, 'seal.der'), '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { encoding: 'utf8' })
    expect(subject).toContain(`serialNumber=${testUscc(11)}`)
    expect(subject).toContain('OU=公章')

    const image = await t.request('GET', `/v1/seals/${seal.id}/image`, { token: null })
    expect(image.headers.get('content-type')).toBe('image/svg+xml')
    expect(await image.text()).toMatch(/^<svg[\s\S]*<path[\s\S]*<\/svg>\s*$/)

    // A second opening for the same enterprise is refused whole: no seal of it is stored twice.
    expect((await t.request('POST', `/v1/enterprises/${testUscc(11)}/seals`, { json: { enterpriseName: '赣州开办测试有限公司', set: 'opening' } })).status).toBe(409)
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM seals WHERE owner_uscc = $1', [testUscc(11)]))[0]?.n).toBe(3)
  })

  it('seals a contract for two enterprises, each an incremental update that pdfsig reports valid', async () => {
    const a = await (await t.request('POST', `/v1/enterprises/${testUscc(21)}/seals`, { json: { enterpriseName: '甲方科技有限公司', kind: 'contract' } })).json()
    const b = await (await t.request('POST', `/v1/enterprises/${testUscc(22)}/seals`, { json: { enterpriseName: '乙方贸易有限公司', kind: 'contract' } })).json()
    const contract = await makePdf()
    const first = await t.request('POST', `/v1/seals/${a.seals[0].id}/sign?x=80&y=80`, {
      body: contract as Uint8Array<ArrayBuffer>,
      token: a.enterpriseCredential,
      headers: { 'content-type': 'application/pdf' },
    })
    expect(first.status).toBe(200)
    const once = new Uint8Array(await first.arrayBuffer())
    expect(Buffer.from(once.subarray(0, contract.length)).equals(Buffer.from(contract))).toBe(true)

    const second = await t.request('POST', `/v1/seals/${b.seals[0].id}/sign`, { body: once, token: b.enterpriseCredential, headers: { 'content-type': 'application/pdf' } })
    expect(second.status).toBe(200)
    const twice = new Uint8Array(await second.arrayBuffer())
    expect(Buffer.from(twice.subarray(0, once.length)).equals(Buffer.from(once))).toBe(true)

    const report = pdfsig(twice, nssDbTrusting(t.pki.root.certificate))
    expect(report.match(/Signature is Valid/g)).toHaveLength(2)
    expect(report.match(/Certificate is Trusted/g)).toHaveLength(2)
    expect(report).toContain('甲方科技有限公司合同专用章')
    expect(report).toContain('乙方贸易有限公司合同专用章')

    const uses = await (await t.request('GET', `/v1/seals/${a.seals[0].id}/uses`, { token: a.enterpriseCredential })).json()
    expect(uses.uses).toHaveLength(1)
    expect(uses.uses[0].actor).toBe(`uscc:${testUscc(21)}`)
  })

  it('refuses a seal to anyone but its owner, and a revoked seal to its owner', async () => {
    const a = await (await t.request('POST', `/v1/enterprises/${testUscc(31)}/seals`, { json: { enterpriseName: '丙公司', kind: 'contract' } })).json()
    const b = await (await t.request('POST', `/v1/enterprises/${testUscc(32)}/seals`, { json: { enterpriseName: '丁公司', kind: 'contract' } })).json()
    const pdf = (await makePdf()) as Uint8Array<ArrayBuffer>
    const sign = (token: string) => t.request('POST', `/v1/seals/${a.seals[0].id}/sign`, { body: pdf, token, headers: { 'content-type': 'application/pdf' } })
    expect((await sign(b.enterpriseCredential)).status).toBe(403)
    expect((await sign('tbe_' + 'x'.repeat(43))).status).toBe(401)
    expect((await t.request('POST', `/v1/seals/${a.seals[0].id}/revoke`, { json: { reason: '印章遗失' } })).status).toBe(200)
    expect((await sign(a.enterpriseCredential)).status).toBe(409)
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM seal_uses WHERE seal_id = $1', [a.seals[0].id]))[0]?.n).toBe(0)
  })
})
