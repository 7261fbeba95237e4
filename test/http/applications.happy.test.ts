import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { attachment, hygieneApplication, uploadAttachments } from '../support/applications'
import { testUscc } from '../support/fixtures'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ regionCode: '440307', regionName: '深圳市龙岗区' })
  await uploadAttachments(t, hygieneApplication().attachments)
})
afterAll(() => t.close())

async function create(body: unknown = hygieneApplication(), headers: Record<string, string> = {}) {
  const response = await t.request('POST', '/v1/applications', { json: body, headers })
  return { response, body: (await response.json()) as any }
}

async function decide(id: string, decision: unknown) {
  const response = await t.request('POST', `/v1/applications/${id}/decisions`, { json: decision })
  return { response, body: (await response.json()) as any }
}

describe('applications', () => {
  it('goes received → accepted → in_review → approved, issuing the licence in the approval, with every step on the timeline', async () => {
    const created = await create()
    expect(created.response.status).toBe(201)
    expect(created.response.headers.get('location')).toBe(`/v1/applications/${created.body.id}`)
    expect(created.body).toMatchObject({ status: 'received', acceptingRegion: { code: '440307' }, handlingRegion: { code: '440307' }, licence: null })
    expect(created.body.attachments).toEqual(hygieneApplication().attachments.map((a) => ({ ...a, held: true })))
    const id = created.body.id as string
    expect((await decide(id, { action: 'accept' })).body.status).toBe('accepted')
    expect((await decide(id, { action: 'review', reason: '材料齐全' })).body.status).toBe('in_review')
    const approved = await decide(id, { action: 'approve', licence: { validFrom: '2026-12-04', validUntil: '2030-12-03' } })
    expect(approved.response.status).toBe(200)
    expect(approved.body.status).toBe('approved')
    const licenceId = approved.body.licence.id as string
    expect(approved.body.issuedLicence.id).toBe(licenceId)

    const licence = (await (await t.request('GET', `/v1/licences/${licenceId}`)).json()) as any
    expect(licence).toMatchObject({ type: { key: 'public-place-hygiene-licence' }, status: 'active', holder: { uscc: testUscc(7) } })
    expect(licence.fields).toEqual({ legalRepresentative: '李四', address: '深圳市龙岗区龙岗大道1号', premisesType: '住宿场所（宾馆）', area: 1200 })
    const verified = (await (await t.request('POST', '/v1/verify', { json: { credential: licence.credential }, token: null })).json()) as any
    expect(verified.indication).toBe('TOTAL_PASSED')

    const shown = (await (await t.request('GET', `/v1/applications/${id}`)).json()) as any
    expect(shown.timeline.map((e: any) => [e.sequence, e.action, e.from, e.to])).toEqual([
      [1, 'submit', null, 'received'],
      [2, 'accept', 'received', 'accepted'],
      [3, 'review', 'accepted', 'in_review'],
      [4, 'approve', 'in_review', 'approved'],
    ])
    expect(shown.timeline[2]).toMatchObject({ actor: 'admin', reason: '材料齐全' })
    expect(shown.timeline[3].detail.licence).toEqual({ id: licenceId, number: licence.number })
  })

  it('serves the approved licence as a signed PDF through the licence endpoint', async () => {
    const id = (await create()).body.id
    await decide(id, { action: 'accept' })
    await decide(id, { action: 'review' })
    const { body } = await decide(id, { action: 'approve', licence: { validUntil: '2031-01-01' } })
    const pdf = await t.request('GET', body.licence.pdf)
    expect(pdf.status).toBe(200)
    expect(pdf.headers.get('content-type')).toBe('application/pdf')
    expect(new TextDecoder().decode((await pdf.arrayBuffer()).slice(0, 5))).toBe('%PDF-')
  })

  it('企业设立登记: a person applies, the approval names the new enterprise and the licence fields the form lacks', async () => {
    const attachments = ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key))
    await uploadAttachments(t, attachments)
    const { body, response } = await create({
      matter: 'enterprise-establishment',
      applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
      form: { enterpriseName: '龙岗通办科技有限公司', entityType: '有限责任公司', legalRepresentative: '王五', registeredCapital: '壹佰万元整', address: '深圳市龙岗区坂田街道1号', businessScope: '软件开发' },
      attachments,
    })
    expect(response.status).toBe(201)
    await decide(body.id, { action: 'accept' })
    await decide(body.id, { action: 'review' })
    const approved = await decide(body.id, {
      action: 'approve',
      licence: { holder: { kind: 'enterprise', uscc: testUscc(8), name: '龙岗通办科技有限公司' }, fields: { establishedOn: '2026-12-04' }, validUntil: '2056-12-03' },
    })
    expect(approved.response.status).toBe(200)
    const licence = (await (await t.request('GET', `/v1/licences/${approved.body.licence.id}`)).json()) as any
    expect(licence.holder).toEqual({ kind: 'enterprise', uscc: testUscc(8), name: '龙岗通办科技有限公司' })
    expect(licence.fields).toMatchObject({ legalRepresentative: '王五', establishedOn: '2026-12-04', businessScope: '软件开发' })
  })

  it('request-more waits for a supplement and returns to where it was; the supplement is checked and kept', async () => {
    const id = (await create()).body.id
    await decide(id, { action: 'accept' })
    const asked = await decide(id, { action: 'request-more', missing: ['从业人员健康合格证明'], reason: '请补充' })
    expect(asked.body.status).toBe('more_requested')
    const certificates = attachment('staff-health-certificates')
    await uploadAttachments(t, [certificates])
    const supplemented = await decide(id, { action: 'supplement', attachments: [certificates] })
    expect(supplemented.body.status).toBe('accepted')
    expect(supplemented.body.attachments).toContainEqual({ ...certificates, held: true })
    expect(supplemented.body.timeline.at(-2).detail).toEqual({ missing: ['从业人员健康合格证明'] })
  })

  it('a retried creation with the same Idempotency-Key returns the first application', async () => {
    const first = await create(hygieneApplication(), { 'idempotency-key': 'window-1' })
    const again = await create(hygieneApplication(), { 'idempotency-key': 'window-1' })
    expect(again.response.status).toBe(200)
    expect(again.response.headers.get('idempotent-replayed')).toBe('true')
    expect(again.body.id).toBe(first.body.id)
    const other = await create(hygieneApplication({ form: { legalRepresentative: '赵六', address: '地址', premisesType: '宾馆' } }), { 'idempotency-key': 'window-1' })
    expect(other.response.status).toBe(422)
    expect(other.body.code).toBe('idempotency_key_reused')
  })
})
