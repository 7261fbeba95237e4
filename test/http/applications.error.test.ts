import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { hygieneApplication, uploadAttachments } from '../support/applications'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
  await uploadAttachments(t, hygieneApplication().attachments)
})
afterAll(() => t.close())

const count = async (table: string) => Number(((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0] as { n: number }).n)

async function post(path: string, json: unknown) {
  const response = await t.request('POST', path, { json })
  return { response, body: (await response.json()) as any }
}

async function inReview() {
  const id = (await post('/v1/applications', hygieneApplication())).body.id as string
  await post(`/v1/applications/${id}/decisions`, { action: 'accept' })
  await post(`/v1/applications/${id}/decisions`, { action: 'review' })
  return id
}

describe('POST /v1/applications refusals', () => {
  it('names every problem at once (applicant, form, attachments) with a 422 and stores nothing', async () => {
    const before = [await count('applications'), await count('application_events')]
    const { response, body } = await post(
      '/v1/applications',
      hygieneApplication({
        applicant: { kind: 'enterprise', uscc: '91360702MA0000001A', name: '某公司' },
        form: { address: '', premisesType: '宾馆', colour: 'red' },
        attachments: [{ key: 'selfie', sha256: 'a'.repeat(64), size: 1, mediaType: 'image/png' }],
      }),
    )
    expect(response.status).toBe(422)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(body.code).toBe('invalid_application')
    const found = body.errors.map((e: any) => `${e.code} ${e.pointer}`)
    expect(found).toEqual(
      expect.arrayContaining([
        'invalid_uscc /applicant/uscc',
        'invalid_form /form/address',
        'invalid_form /form/colour',
        'invalid_form /form/legalRepresentative',
        'unknown_attachment /attachments/0/key',
        'missing_attachment /attachments',
      ]),
    )
    expect(body.errors.filter((e: any) => e.code === 'missing_attachment')).toHaveLength(3)
    expect([await count('applications'), await count('application_events')]).toEqual(before)
  })

  it.each([
    ['an unknown matter', { matter: 'fishing' }, 'unknown_matter', '/matter'],
    ['a bad 公民身份号码', { applicant: { kind: 'person', idNumber: '110105194912310021', name: '王五' } }, 'invalid_id_number', '/applicant/idNumber'],
    ['a region with no agreement', { handlingRegion: '440307' }, 'matter_not_accepted', '/handlingRegion'],
  ])('refuses %s under its own code', async (_name, overrides, code, pointer) => {
    const { response, body } = await post('/v1/applications', hygieneApplication(overrides))
    expect(response.status).toBe(422)
    expect(body.code).toBe(code)
    expect(body.errors[0].pointer).toBe(pointer)
  })

  it.each([
    ['a digest that is not hex SHA-256', { attachments: [{ key: 'premises-layout', sha256: 'xyz', size: 1, mediaType: 'application/pdf' }] }, '/attachments/0/sha256'],
    ['an unknown member', { colour: 'red' }, '/colour'],
    ['no applicant', { applicant: undefined }, '/applicant'],
  ])('answers %s with 400 invalid_request pointing at it', async (_name, overrides, pointer) => {
    const { response, body } = await post('/v1/applications', hygieneApplication(overrides))
    expect(response.status).toBe(400)
    expect(body.code).toBe('invalid_request')
    expect(body.errors.map((e: any) => e.pointer)).toContain(pointer)
  })
})

describe('decisions', () => {
  it('refuses impossible transitions with 409 and leaves the timeline alone', async () => {
    const id = (await post('/v1/applications', hygieneApplication())).body.id as string
    const early = await post(`/v1/applications/${id}/decisions`, { action: 'approve', licence: { validUntil: '2030-01-01' } })
    expect(early.response.status).toBe(409)
    expect(early.body.code).toBe('invalid_transition')
    expect((await post(`/v1/applications/${id}/decisions`, { action: 'supplement' })).response.status).toBe(409)
    await post(`/v1/applications/${id}/decisions`, { action: 'reject', reason: '不属于本机关职权范围' })
    for (const decision of [{ action: 'accept' }, { action: 'withdraw', reason: 'x' }, { action: 'reject', reason: 'again' }]) {
      const { response, body } = await post(`/v1/applications/${id}/decisions`, decision)
      expect(response.status).toBe(409)
      expect(body.code).toBe('invalid_transition')
    }
    const shown = (await (await t.request('GET', `/v1/applications/${id}`)).json()) as any
    expect(shown.status).toBe('rejected')
    expect(shown.timeline).toHaveLength(2)
    expect(shown.timeline[1]).toMatchObject({ action: 'reject', reason: '不属于本机关职权范围' })
  })

  it('an approval whose licence is invalid is a 422 under /licence and issues nothing, leaving the application in review', async () => {
    const id = await inReview()
    const licences = await count('licences')
    const { response, body } = await post(`/v1/applications/${id}/decisions`, { action: 'approve', licence: { fields: { area: -1 }, validFrom: '2026-02-30', validUntil: '2030-01-01' } })
    expect(response.status).toBe(422)
    expect(body.errors.map((e: any) => e.pointer)).toEqual(expect.arrayContaining(['/licence/fields/area', '/licence/validFrom']))
    expect(await count('licences')).toBe(licences)
    const shown = (await (await t.request('GET', `/v1/applications/${id}`)).json()) as any
    expect(shown.status).toBe('in_review')
    expect(shown.timeline).toHaveLength(3)
  })

  it('a signer failure during approval rolls the whole decision back', async () => {
    const failing = await createTestApp({
      wrapSigner: (signer) => ({ ...signer, sign: async (payload, header) => ((payload as any)?.type?.includes?.('LicenceCredential') ? Promise.reject(new Error('HSM down')) : signer.sign(payload, header)) }),
    })
    try {
      await uploadAttachments(failing, hygieneApplication().attachments)
      const created = (await (await failing.request('POST', '/v1/applications', { json: hygieneApplication() })).json()) as any
      await failing.request('POST', `/v1/applications/${created.id}/decisions`, { json: { action: 'accept' } })
      await failing.request('POST', `/v1/applications/${created.id}/decisions`, { json: { action: 'review' } })
      const response = await failing.request('POST', `/v1/applications/${created.id}/decisions`, { json: { action: 'approve', licence: { validUntil: '2030-01-01' } } })
      expect(response.status).toBe(500)
      const shown = (await (await failing.request('GET', `/v1/applications/${created.id}`)).json()) as any
      expect(shown.status).toBe('in_review')
      expect(shown.licence).toBeNull()
      expect(((await failing.db.query<{ n: number }>('SELECT count(*)::int AS n FROM licences'))[0] as any).n).toBe(0)
    } finally {
      await failing.close()
    }
  })

  it('reject and withdraw need a reason; request-more needs what is missing', async () => {
    const id = (await post('/v1/applications', hygieneApplication())).body.id as string
    for (const decision of [{ action: 'reject' }, { action: 'withdraw' }, { action: 'request-more' }, { action: 'request-more', missing: [] }, { action: 'fly' }]) {
      const { response, body } = await post(`/v1/applications/${id}/decisions`, decision)
      expect(response.status, JSON.stringify(decision)).toBe(400)
      expect(body.code).toBe('invalid_request')
    }
  })

  it('an unknown application is 404 application_not_found, whatever the id looks like', async () => {
    for (const id of ['0b7e5a52-4b8e-4d2f-9c55-2b1d3c4e5f60', 'not-a-uuid']) {
      expect((await t.request('GET', `/v1/applications/${id}`)).status).toBe(404)
      const { response, body } = await post(`/v1/applications/${id}/decisions`, { action: 'accept' })
      expect(response.status).toBe(404)
      expect(body.code).toBe('application_not_found')
    }
  })
})
