import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseLicenceNumber } from '../../src/core/licence/licence-number'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'

describe('changing a licence (变更)', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('issues version 002 under the same serial and makes version 001 stop verifying', async () => {
    const first = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    const response = await t.request('POST', `/v1/licences/${first.id}/change`, {
      json: { reason: '名称变更', holderName: '赣州通办数字科技有限公司' },
      headers: { 'idempotency-key': 'change-1' },
    })
    expect(response.status).toBe(201)
    const second = await response.json()
    const [a, b] = [parseLicenceNumber(first.number), parseLicenceNumber(second.number)]
    expect(b?.serial).toBe(a?.serial)
    expect([a?.version, b?.version]).toEqual([1, 2])
    expect(second.number).toMatch(/\.002\.[0-9A-Z]$/)
    expect(second.supersedes).toBe(first.id)
    expect(second.holder.name).toBe('赣州通办数字科技有限公司')

    const retried = await t.request('POST', `/v1/licences/${first.id}/change`, {
      json: { reason: '名称变更', holderName: '赣州通办数字科技有限公司' },
      headers: { 'idempotency-key': 'change-1' },
    })
    expect(retried.status).toBe(200)
    expect((await retried.json()).id).toBe(second.id)

    const verify = async (credential: string) => (await t.request('POST', '/v1/verify', { json: { credential } })).json()
    expect(await verify(second.credential)).toMatchObject({ indication: 'TOTAL_PASSED', licence: { version: 2 } })
    expect(await verify(first.credential)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' })

    const old = await (await t.request('GET', `/v1/licences/${first.id}`)).json()
    expect(old.status).toBe('superseded')
    expect(old.statusReason).toContain(second.number)
    expect((await t.request('POST', `/v1/licences/${first.id}/change`, { json: { reason: '再次变更', holderName: 'x公司' } })).status).toBe(409)
  })
})
