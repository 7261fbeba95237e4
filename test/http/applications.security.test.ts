import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { hygieneApplication, uploadAttachments } from '../support/applications'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
  await uploadAttachments(t, hygieneApplication().attachments)
})
afterAll(() => t.close())

describe('applications: authentication', () => {
  it('every application endpoint needs the bearer token, before reading the body', async () => {
    const id = ((await (await t.request('POST', '/v1/applications', { json: hygieneApplication() })).json()) as any).id
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/v1/applications', hygieneApplication()],
      ['GET', `/v1/applications/${id}`, undefined],
      ['POST', `/v1/applications/${id}/decisions`, { action: 'accept' }],
    ]
    for (const [method, path, json] of calls) {
      for (const token of [null, 'wrong-token-0123456789']) {
        const response = await t.request(method, path, { ...(json ? { json } : {}), token })
        expect(response.status, `${method} ${path}`).toBe(401)
        expect(((await response.json()) as any).code).toBe('unauthorized')
      }
    }
    const shown = (await (await t.request('GET', `/v1/applications/${id}`)).json()) as any
    expect(shown.status).toBe('received')
    expect(((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM applications'))[0] as any).n).toBe(1)
  })

  it('answers carrying personal data are not cached', async () => {
    const response = await t.request('POST', '/v1/applications', { json: hygieneApplication() })
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('strings the database cannot store are refused, not a 500', async () => {
    const response = await t.request('POST', '/v1/applications', { json: hygieneApplication({ form: { legalRepresentative: 'a\u0000b', address: 'x', premisesType: 'y' } }) })
    expect(response.status).toBe(422)
    expect(((await response.json()) as any).code).toBe('invalid_characters')
  })
})
