import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLicenceType } from '../../src/core/licence/licence-types'
import { createTestApp, type TestApp } from '../support/app'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ regionCode: '440307', regionName: '深圳市龙岗区' })
})
afterAll(() => t.close())

describe('GET /v1/matters', () => {
  it('lists the catalogue, owned by this deployment’s region, each with its form schema and licence type', async () => {
    const response = await t.request('GET', '/v1/matters', { token: null })
    expect(response.status).toBe(200)
    const { matters } = (await response.json()) as { matters: Array<{ code: string; name: string; owningRegion: { code: string }; licenceType: { key: string }; attachments: unknown[]; form: { type: string } }> }
    const byName = Object.fromEntries(matters.map((m) => [m.name, m]))
    expect(byName['企业设立登记']?.licenceType.key).toBe('business-licence')
    expect(byName['公共场所卫生许可']?.licenceType.key).toBe('public-place-hygiene-licence')
    expect(byName['食品经营许可']?.licenceType.key).toBe('food-business-licence')
    for (const matter of matters) {
      expect(matter.owningRegion.code).toBe('440307')
      expect(matter.form.type).toBe('object')
      expect(matter.attachments.length).toBeGreaterThan(0)
      expect(findLicenceType(matter.licenceType.key)).toBeDefined()
    }
  })
})
