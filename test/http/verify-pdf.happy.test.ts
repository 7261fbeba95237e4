import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePdf, tempDir } from '../adapters/pdf/pades-fixtures'
import { createTestApp, testPki, type TestApp } from '../support/app'
import { businessLicenceRequest, testUscc } from '../support/fixtures'

type Report = {
  indication: string
  subIndication: string | null
  signatures: Array<{ indication: string; subIndication: string | null; name: string; seal: { name: string; status: string } | null; checks: Array<{ name: string; result: string }> }>
  embeddedLicence: { indication: string; subIndication: string | null } | null
  licence: { number: string } | null
}

describe('verifying PDFs (POST /v1/verify, application/pdf)', () => {
  let t: TestApp
  const verify = async (pdf: Uint8Array): Promise<Report> => {
    const response = await t.request('POST', '/v1/verify', { body: pdf as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/pdf' }, token: null })
    expect(response.status).toBe(200)
    return response.json()
  }
  const seal = async (sealId: string, token: string, pdf: Uint8Array, query = '') => {
    const response = await t.request('POST', `/v1/seals/${sealId}/sign${query}`, { body: pdf as Uint8Array<ArrayBuffer>, token, headers: { 'content-type': 'application/pdf' } })
    expect(response.status).toBe(200)
    return new Uint8Array(await response.arrayBuffer())
  }

  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('passes a licence PDF: the bureau seal signature and the licence it carries', async () => {
    const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    const pdf = new Uint8Array(await (await t.request('GET', `/v1/licences/${licence.id}/pdf`)).arrayBuffer())
    const report = await verify(pdf)
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.signatures).toHaveLength(1)
    expect(report.signatures[0]?.seal?.name).toContain('行政审批专用章')
    expect(report.embeddedLicence?.indication).toBe('TOTAL_PASSED')
    expect(report.licence?.number).toBe(licence.number)

    await t.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '吊销' } })
    expect(await verify(pdf)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED', embeddedLicence: { subIndication: 'REVOKED' } })
  })

  it('passes a contract sealed by two enterprises, and fails it once one seal is revoked', async () => {
    const a = await (await t.request('POST', `/v1/enterprises/${testUscc(41)}/seals`, { json: { enterpriseName: '甲方有限公司', kind: 'contract' } })).json()
    const b = await (await t.request('POST', `/v1/enterprises/${testUscc(42)}/seals`, { json: { enterpriseName: '乙方有限公司', kind: 'contract' } })).json()
    const sealed = await seal(b.seals[0].id, b.enterpriseCredential, await seal(a.seals[0].id, a.enterpriseCredential, await makePdf(), '?x=80&y=80'))
    const report = await verify(sealed)
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.signatures.map((s) => s.seal?.name)).toEqual(['甲方有限公司合同专用章', '乙方有限公司合同专用章'])
    expect(report.embeddedLicence).toBeNull()

    await t.request('POST', `/v1/seals/${a.seals[0].id}/revoke`, { json: { reason: '印章遗失' } })
    const after = await verify(sealed)
    expect(after).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' })
    expect(after.signatures.map((s) => s.indication)).toEqual(['TOTAL_FAILED', 'TOTAL_PASSED'])
  })

  it('is INDETERMINATE for a certificate from another root, until an admin trusts that root', async () => {
    const other = await testPki('440307', '深圳市龙岗区')
    const foreign = await createTestApp({ regionCode: '440307', regionName: '深圳市龙岗区', pki: other })
    try {
      const s = await (await foreign.request('POST', `/v1/enterprises/${testUscc(51)}/seals`, { json: { enterpriseName: '龙岗企业有限公司', kind: 'contract' } })).json()
      const response = await foreign.request('POST', `/v1/seals/${s.seals[0].id}/sign`, { body: (await makePdf()) as Uint8Array<ArrayBuffer>, token: s.enterpriseCredential, headers: { 'content-type': 'application/pdf' } })
      const sealed = new Uint8Array(await response.arrayBuffer())
      const before = await verify(sealed)
      expect(before).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NO_CERTIFICATE_CHAIN_FOUND' })

      const added = await t.request('POST', '/v1/admin/trust-anchors', { json: { certificate: other.root.certificate.toString('pem'), label: '深圳市龙岗区根CA' } })
      expect(added.status).toBe(201)
      expect((await t.request('POST', '/v1/admin/trust-anchors', { json: { certificate: other.root.certificate.toString('base64') } })).status).toBe(200)
      const after = await verify(sealed)
      expect(after.indication).toBe('TOTAL_PASSED')
      expect(after.signatures[0]?.checks.find((c) => c.name === 'seal-not-revoked')?.result).toBe('skipped')
    } finally {
      await foreign.close()
    }
  })

  it('seals with an enterprise’s own RSA key from PKCS#12, trusted once its self-signed certificate is an anchor', async () => {
    const dir = tempDir()
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-subj', '/C=CN/O=自带证书有限公司/CN=自带证书有限公司合同专用章', '-utf8'], { stdio: 'ignore' })
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(dir, 'k.pem'), '-in', join(dir, 'c.pem'), '-out', join(dir, 'p.p12'), '-passout', 'pass:口令123'], { stdio: 'ignore' })
    const created = await t.request('POST', `/v1/enterprises/${testUscc(61)}/seals`, {
      json: { enterpriseName: '自带证书有限公司', kind: 'contract', pkcs12: readFileSync(join(dir, 'p.p12')).toString('base64'), password: '口令123' },
    })
    expect(created.status).toBe(201)
    const s = await created.json()
    expect(s.seals[0]).toMatchObject({ keySource: 'pkcs12', algorithm: 'RS256' })
    const sealed = await seal(s.seals[0].id, s.enterpriseCredential, await makePdf())
    expect((await verify(sealed)).subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND')
    expect((await t.request('POST', '/v1/admin/trust-anchors', { json: { certificate: readFileSync(join(dir, 'c.pem'), 'utf8') } })).status).toBe(201)
    expect((await verify(sealed)).indication).toBe('TOTAL_PASSED')

    const wrong = await t.request('POST', `/v1/enterprises/${testUscc(62)}/seals`, { json: { enterpriseName: '某公司', kind: 'contract', pkcs12: readFileSync(join(dir, 'p.p12')).toString('base64'), password: 'wrong' } })
    expect(wrong.status).toBe(422)
    expect((await wrong.json()).code).toBe('pkcs12_bad_password')
  })
})
