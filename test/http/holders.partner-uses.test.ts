import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { createPartnerPair, registerBoth, scopeOf, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  pair.lg.deps.partners.scope = scopeOf({ '360700': { 'business-licence': ['entityType'] } })
  // 赣州 calls out only to a region it has an agreement with.
  pair.gz.deps.partners.scope = scopeOf({ '440307': {} })
})
afterAll(() => pair.close())

describe('a partner region’s check in the holder’s use log', () => {
  it('shows 龙岗’s holder that 赣州 verified its licence, when and why', async () => {
    const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00077'), name: '龙岗用证测试有限公司' }
    const licence = (await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })).json()) as { id: string; number: string }
    const { credential } = (await (await pair.lg.request('POST', '/v1/admin/holder-credentials', { json: { holder } })).json()) as { credential: string }

    const asked = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: { number: licence.number, purpose: '跨省通办受理核验' } })
    expect(((await asked.json()) as { status: number }).status).toBe(200)

    const { uses } = (await (await pair.lg.request('GET', '/v1/holder/uses', { token: credential })).json()) as { uses: Array<Record<string, unknown>> }
    expect(uses).toHaveLength(1)
    expect(uses[0]).toMatchObject({
      licence: { id: licence.id, number: licence.number },
      by: { kind: 'partner', id: '360700', name: '赣州市', branch: null },
      purpose: '跨省通办受理核验',
      consent: null,
      indication: 'TOTAL_PASSED',
    })

    // The holder page shows it too, named as a partner region.
    const form = { token: null, body: new URLSearchParams({ credential }).toString(), headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' } }
    const cookie = ((await pair.lg.request('POST', '/holder/sign-in', form)).headers.get('set-cookie') ?? '').split(';')[0] as string
    const page = await (await pair.lg.request('GET', '/holder', { token: null, headers: { cookie } })).text()
    const row = /<tr data-use="\d+"[^>]*>(.*?)<\/tr>/.exec(page)?.[1]
    expect(row).toContain('合作地区 赣州市')
    expect(row).toContain('跨省通办受理核验')
  })
})
