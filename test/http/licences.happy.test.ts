import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'

describe('issuing and verifying a licence', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('issues a business licence whose credential verifies TOTAL_PASSED', async () => {
    const issued = await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })
    expect(issued.status).toBe(201)
    const licence = await issued.json()
    expect(licence.number).toMatch(/^1\.2\.156\.3005\.2\.11100000000013338W001\.11360700MB00000015\.3607000000\d{6}\.001\.[0-9A-Z]$/)
    expect(licence.status).toBe('active')

    const verified = await t.request('POST', '/v1/verify', { json: { credential: licence.credential }, token: null })
    expect(verified.status).toBe(200)
    const report = await verified.json()
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.subIndication).toBeNull()
    expect(report.licence.number).toBe(licence.number)
    expect(report.licence.holder.name).toBe('赣州通办科技有限公司')
    expect(report.issuer.regionCode).toBe('360700')
    expect(report.signer.chain).toHaveLength(3)
    expect(report.checks.every((check: { result: string }) => check.result === 'passed')).toBe(true)
  })

  it('reports a revoked licence as REVOKED and a suspended one as TRY_LATER until reinstated', async () => {
    const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    const verify = async () => (await t.request('POST', '/v1/verify', { json: { credential: licence.credential } })).json()

    expect((await t.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '现场检查发现问题' } })).status).toBe(200)
    expect(await verify()).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER', licence: { status: 'suspended' } })

    expect((await t.request('POST', `/v1/licences/${licence.id}/reinstate`, { json: {} })).status).toBe(200)
    expect(await verify()).toMatchObject({ indication: 'TOTAL_PASSED' })

    expect((await t.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '申请人主动注销' } })).status).toBe(200)
    expect(await verify()).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED', licence: { status: 'revoked' } })

    const detail = await (await t.request('GET', `/v1/licences/${licence.id}`)).json()
    expect(detail.events.map((e: { action: string }) => e.action)).toEqual(['issued', 'suspended', 'reinstated', 'revoked'])
  })
})
