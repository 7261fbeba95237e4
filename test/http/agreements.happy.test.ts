import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { createPartnerPair, registerBoth, sampleTerms, type PartnerPair } from '../support/partner-pair'

type View = { id: string; status: string; signedBy: string[]; delivered: boolean; deliveryProblem: string | null; termination: { by: string; reason: string } | null; jws: { signatures: unknown[] } }

let pair: PartnerPair
let credential: string
let hygieneCredential: string
const holder = { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00011'), name: '深圳龙岗协议测试有限公司' }

const agreementAt = async (side: 'gz' | 'lg', id: string) => (await (await pair[side].request('GET', `/v1/admin/agreements/${id}`)).json()) as View
const askLonggang = async (body: Record<string, unknown>) => {
  const response = await pair.gz.request('POST', '/v1/admin/partners/440307/verify', { json: body })
  return { status: response.status, body: (await response.json()) as { status: number; code?: string; answer: { code?: string; report?: { indication: string; licence: { fields: Record<string, unknown> } } } } }
}

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  credential = ((await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })).json()) as { credential: string }).credential
  const hygiene = await pair.lg.request('POST', '/v1/licences', {
    json: { type: 'public-place-hygiene-licence', holder, fields: { legalRepresentative: '李四', address: '深圳市龙岗区龙城街道', premisesType: '住宿场所', area: 800 }, validFrom: '2026-01-05', validUntil: '2030-01-04' },
  })
  hygieneCredential = ((await hygiene.json()) as { credential: string }).credential
})
afterAll(() => pair.close())

describe('an agreement between 赣州 and 龙岗', () => {
  it('before any agreement, partner calls are refused on both sides', async () => {
    const { status, body } = await askLonggang({ credential })
    expect(status).toBe(403)
    expect(body.code).toBe('no_active_agreement')
  })

  it('proposed by 赣州: signed by it, delivered to 龙岗, awaiting 龙岗’s signature there', async () => {
    const response = await pair.gz.request('POST', '/v1/admin/agreements', { json: sampleTerms() })
    expect(response.status).toBe(201)
    const proposed = (await response.json()) as View
    expect(proposed).toMatchObject({ id: 'gz-lg-2027-01', status: 'awaiting_partner', signedBy: ['360700'], delivered: true })
    expect(await agreementAt('lg', 'gz-lg-2027-01')).toMatchObject({ status: 'awaiting_us', signedBy: ['360700'] })
    expect((await askLonggang({ credential })).status).toBe(403)
  })

  it('countersigned by 龙岗: in force on both sides, with two signatures', async () => {
    const response = await pair.lg.request('POST', '/v1/admin/agreements/gz-lg-2027-01/countersignature')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'active', signedBy: ['360700', '440307'], delivered: true })
    const atGz = await agreementAt('gz', 'gz-lg-2027-01')
    expect(atGz).toMatchObject({ status: 'active', signedBy: ['360700', '440307'] })
    expect(atGz.jws.signatures).toHaveLength(2)
  })

  it('lets 赣州 verify 龙岗’s business licences through the partner API, showing the agreed fields only', async () => {
    const { status, body } = await askLonggang({ credential })
    expect(status).toBe(200)
    expect(body.status).toBe(200)
    expect(body.answer.report?.indication).toBe('TOTAL_PASSED')
    const shown = Object.keys(body.answer.report?.licence.fields ?? {})
    expect(shown).toEqual(expect.arrayContaining(['entityType', 'legalRepresentative', 'establishedOn', 'address']))
    expect(shown.every((field) => ['entityType', 'legalRepresentative', 'establishedOn', 'address', 'registrationAuthority'].includes(field))).toBe(true)
    expect(body.answer.report?.licence.fields).not.toHaveProperty('registeredCapital')
    expect(body.answer.report?.licence.fields).not.toHaveProperty('businessScope')
  })

  it('refuses a licence type the agreement does not let 赣州 verify', async () => {
    const { body } = await askLonggang({ credential: hygieneCredential })
    expect(body.status).toBe(403)
    expect(body.answer.code).toBe('outside_agreement')
  })

  it('lists the matters 赣州 may accept for 龙岗', async () => {
    const { matters } = (await (await pair.gz.request('GET', '/v1/matters', { token: null })).json()) as { matters: Array<{ code: string; owningRegion: { code: string } }> }
    expect(matters.filter((m) => m.owningRegion.code === '440307').map((m) => m.code).sort()).toEqual(['enterprise-establishment', 'food-business'])
  })

  it('is delivered later when the partner was down at the time', async () => {
    pair.setDown('lg.test', true)
    let proposed: View
    try {
      const response = await pair.gz.request('POST', '/v1/admin/agreements', { json: sampleTerms({ id: 'gz-lg-2027-02' }) })
      expect(response.status).toBe(201)
      proposed = (await response.json()) as View
    } finally {
      pair.setDown('lg.test', false)
    }
    expect(proposed).toMatchObject({ status: 'awaiting_partner', delivered: false })
    expect(proposed.deliveryProblem).toMatch(/could not be reached/)
    expect((await pair.lg.request('GET', '/v1/admin/agreements/gz-lg-2027-02')).status).toBe(404)
    expect(await pair.gz.deps.agreements.deliverPending()).toBe(1)
    expect(await agreementAt('gz', 'gz-lg-2027-02')).toMatchObject({ delivered: true, deliveryProblem: null })
    expect(await agreementAt('lg', 'gz-lg-2027-02')).toMatchObject({ status: 'awaiting_us' })
  })

  it('terminated by 龙岗: in effect on both sides, and partner calls are refused again', async () => {
    const response = await pair.lg.request('POST', '/v1/admin/agreements/gz-lg-2027-01/termination', { json: { reason: '协议到期前双方协商一致终止' } })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'terminated', delivered: true, termination: { by: '440307' } })
    expect(await agreementAt('gz', 'gz-lg-2027-01')).toMatchObject({ status: 'terminated', termination: { by: '440307', reason: '协议到期前双方协商一致终止' } })
    const { status, body } = await askLonggang({ credential })
    expect(status).toBe(403)
    expect(body.code).toBe('no_active_agreement')
    const { matters } = (await (await pair.gz.request('GET', '/v1/matters', { token: null })).json()) as { matters: Array<{ owningRegion: { code: string } }> }
    expect(matters.filter((m) => m.owningRegion.code === '440307')).toEqual([])
  })

  it('leaves every step in both audit logs', async () => {
    for (const [side, steps] of [['gz', ['proposed', 'signatures_added', 'termination_received']], ['lg', ['received', 'countersigned', 'terminated']]] as const) {
      const { entries } = (await (await pair[side].request('GET', '/v1/admin/audit/entries?kind=agreement&limit=1000')).json()) as { entries: Array<{ detail: { step: string; agreement: string } }> }
      const seen = entries.filter((e) => e.detail.agreement === 'gz-lg-2027-01').map((e) => e.detail.step)
      expect(seen).toEqual(steps)
    }
  })

  it('survives a restart: agreements are loaded from the database', async () => {
    await pair.gz.deps.agreements.load()
    expect(pair.gz.deps.agreements.list().map((a) => [a.id, a.status])).toEqual([
      ['gz-lg-2027-01', 'terminated'],
      ['gz-lg-2027-02', 'awaiting_partner'],
    ])
  })
})
