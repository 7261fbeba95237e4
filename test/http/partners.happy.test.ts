import { compactVerify, decodeProtectedHeader, importX509 } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { createTestApp } from '../support/app'
import { createPartnerPair, registerBoth, scopeOf, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair

beforeAll(async () => {
  pair = await createPartnerPair({ partnerStatusMaxAgeMs: 0 })
  await registerBoth(pair)
  pair.lg.deps.partners.scope = scopeOf({ '360700': { 'business-licence': ['entityType', 'legalRepresentative'] } })
  pair.gz.deps.partners.scope = scopeOf({ '440307': {} })
})
afterAll(() => pair.close())

async function issueAtLonggang(overrides: Record<string, unknown> = {}) {
  const response = await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00001'), name: '深圳龙岗通办有限公司' }, ...overrides }) })
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; number: string; credential: string }
}

describe('registering partners', () => {
  it('lists the partner with its pinned root, base URL from its trust list, and no problem', async () => {
    const list = (await (await pair.gz.request('GET', '/v1/admin/partners')).json()) as { partners: Array<Record<string, unknown>> }
    expect(list.partners).toHaveLength(1)
    expect(list.partners[0]).toMatchObject({ code: '440307', name: '深圳市龙岗区', baseUrl: 'http://lg.test', rootSha256: pair.lg.deps.publication.rootFingerprint, lastProblem: null, trustList: { sequence: 1, fresh: true } })
  })

  it('registering again with the same pin refreshes instead of duplicating', async () => {
    const again = await pair.gz.request('POST', '/v1/admin/partners', { json: { descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: pair.lg.deps.publication.rootFingerprint.toUpperCase() } })
    expect(again.status).toBe(200)
    const refresh = await pair.gz.request('POST', '/v1/admin/partners/440307/refresh')
    expect(refresh.status).toBe(200)
    expect(((await refresh.json()) as { outcome: string }).outcome).toBe('unchanged')
  })
})

describe('赣州 verifies a 龙岗 licence', () => {
  it('locally, with 龙岗’s cached trust list and its status list', async () => {
    const { credential } = await issueAtLonggang()
    const report = (await (await pair.gz.request('POST', '/v1/verify', { json: { credential }, token: null })).json()) as { indication: string; issuer: { regionCode: string }; signer: { subject: string } }
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.issuer.regionCode).toBe('440307')
    expect(report.signer.subject).toContain('深圳市龙岗区')
    expect(pair.fetched.some((url) => url.startsWith('http://lg.test/v1/status/'))).toBe(true)
  })

  it('locally: after 龙岗 revokes it, 赣州 reports it revoked', async () => {
    const { id, credential } = await issueAtLonggang()
    expect(((await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string }).indication).toBe('TOTAL_PASSED')
    expect((await pair.lg.request('POST', `/v1/licences/${id}/revoke`, { json: { reason: '吊销' } })).status).toBe(200)
    const report = (await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string; subIndication: string }
    expect([report.indication, report.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED'])
  })

  it('locally: while 龙岗 is down a status copy inside its validity still answers; past it the verdict is INDETERMINATE / TRY_LATER, never passed', async () => {
    const { credential } = await issueAtLonggang()
    expect(((await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string }).indication).toBe('TOTAL_PASSED')
    pair.setDown('lg.test', true)
    try {
      expect(((await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string }).indication).toBe('TOTAL_PASSED')
      pair.advanceGz(6 * 60_000)
      const report = (await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string; subIndication: string; checks: Array<{ name: string; detail: string }> }
      expect([report.indication, report.subIndication]).toEqual(['INDETERMINATE', 'TRY_LATER'])
      expect(report.checks.find((c) => c.name === 'status-known')?.detail).toContain('could not be fetched')
    } finally {
      pair.setDown('lg.test', false)
      pair.advanceGz(-6 * 60_000)
    }
  })

  it('through the partner API: a signed report with the agreed fields only, and a receipt that verifies with 龙岗’s trust list', async () => {
    const { credential, number } = await issueAtLonggang()
    const response = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { credential, receipt: true, purpose: '跨省通办受理核验' } })
    expect(response.status).toBe(200)
    const { status, answer } = (await response.json()) as { status: number; answer: { report: { indication: string; licence: { fields: Record<string, unknown>; number: string } }; receipt: string } }
    expect(status).toBe(200)
    expect(answer.report.indication).toBe('TOTAL_PASSED')
    expect(Object.keys(answer.report.licence.fields).sort()).toEqual(['entityType', 'legalRepresentative'])
    expect(answer.report.licence.number).toBe(number)

    const header = decodeProtectedHeader(answer.receipt)
    expect(header.typ).toBe('tongban-receipt+jwt')
    const trustList = JSON.parse(Buffer.from((await (await pair.lg.request('GET', '/v1/trust-list', { token: null })).text()).split('.')[1]!, 'base64url').toString()) as { certificates: Array<{ role: string; kid?: string; certificate: string }> }
    const attestation = trustList.certificates.find((c) => c.role === 'attestation-signer' && c.kid === header.kid)
    expect(attestation).toBeDefined()
    const pem = `-----BEGIN CERTIFICATE-----\n${attestation!.certificate}\n-----END CERTIFICATE-----`
    const { payload } = await compactVerify(answer.receipt, await importX509(pem, 'ES256'), { algorithms: ['ES256'] })
    const receipt = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>
    expect(receipt).toMatchObject({ indication: 'TOTAL_PASSED', requester: { region: '360700', purpose: '跨省通办受理核验' }, licence: { number } })
    expect(receipt.credentialSha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('through the partner API by licence number', async () => {
    const { number } = await issueAtLonggang()
    const { answer } = (await (await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { number } })).json()) as { answer: { report: { indication: string } } }
    expect(answer.report.indication).toBe('TOTAL_PASSED')
  })
})

describe('a 龙岗 licence PDF verified at 赣州', () => {
  it('passes with 龙岗’s pinned root and status, and is refused by a region that has no such partner', async () => {
    const { id } = await issueAtLonggang()
    const pdf = new Uint8Array(await (await pair.lg.request('GET', `/v1/licences/${id}/pdf`)).arrayBuffer())
    const verifyAt = async (app: typeof pair.gz) =>
      (await (await app.request('POST', '/v1/verify', { body: pdf as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/pdf' }, token: null })).json()) as {
        indication: string
        signatures: Array<{ indication: string }>
        embeddedLicence: { indication: string } | null
      }
    expect(await verifyAt(pair.gz)).toMatchObject({ indication: 'TOTAL_PASSED', signatures: [{ indication: 'TOTAL_PASSED' }], embeddedLicence: { indication: 'TOTAL_PASSED' } })
    const stranger = await createTestApp({ regionCode: '110105', regionName: '北京市朝阳区', publicUrl: 'http://cy.test' })
    try {
      expect((await verifyAt(stranger)).indication).not.toBe('TOTAL_PASSED')
    } finally {
      await stranger.close()
    }
  })
})
