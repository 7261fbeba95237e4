import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePdf } from '../adapters/pdf/pades-fixtures'
import { createTestApp, type TestApp } from '../support/app'
import { testUscc } from '../support/fixtures'

/** Bad input and attackers on the seal endpoints: 4xx problems with stable codes, nothing written. */
describe('seal endpoints refuse bad input and other people', () => {
  let t: TestApp
  let seal: { id: string }
  let credential: string
  let pdf: Uint8Array<ArrayBuffer>

  const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n
  const sign = (query: string, body: Uint8Array<ArrayBuffer>, token = credential, type = 'application/pdf') =>
    t.request('POST', `/v1/seals/${seal.id}/sign${query}`, { body, token, headers: { 'content-type': type } })
  const problem = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect((await response.json()).code).toBe(code)
  }

  beforeAll(async () => {
    t = await createTestApp()
    const made = await (await t.request('POST', `/v1/enterprises/${testUscc(71)}/seals`, { json: { enterpriseName: '安全测试有限公司', kind: 'contract' } })).json()
    seal = made.seals[0]
    credential = made.enterpriseCredential
    pdf = (await makePdf()) as Uint8Array<ArrayBuffer>
  })
  afterAll(() => t.close())

  it('refuses seal requests that cannot be made, and stores nothing', async () => {
    const before = [await count('seals'), await count('enterprise_credentials')]
    const create = (uscc: string, json: unknown) => t.request('POST', `/v1/enterprises/${uscc}/seals`, { json })
    await problem(await create('91360702MA0000001X', { enterpriseName: '某公司', kind: 'official' }), 422, 'invalid_uscc')
    await problem(await create(testUscc(72), { enterpriseName: '某公司' }), 422, 'invalid_seal_request')
    await problem(await create(testUscc(72), { enterpriseName: '某公司', kind: 'official', set: 'opening' }), 422, 'invalid_seal_request')
    await problem(await create(testUscc(72), { enterpriseName: '某公司', kind: 'legal_representative' }), 422, 'invalid_seal_request')
    await problem(await create(testUscc(72), { enterpriseName: '某公司', kind: 'stamp' }), 400, 'invalid_request')
    await problem(await create(testUscc(72), { enterpriseName: '某公司', kind: 'contract', pkcs12: 'bm90IGEgcGtjczEy', password: 'x' }), 400, 'pkcs12_invalid')
    await problem(await t.request('POST', `/v1/enterprises/${testUscc(72)}/seals`, { json: { enterpriseName: '某公司', kind: 'official' }, token: null }), 401, 'unauthorized')
    expect([await count('seals'), await count('enterprise_credentials')]).toEqual(before)
  })

  it('refuses to seal what is not a PDF, or where the seal does not fit, and records no use', async () => {
    await problem(await sign('', pdf, credential, 'application/json'), 415, 'unsupported_media_type')
    await problem(await sign('', new TextEncoder().encode('%PDF-1.7 but nothing else') as Uint8Array<ArrayBuffer>), 422, 'pdf_malformed')
    await problem(await sign('?page=9', pdf), 422, 'invalid_seal_position')
    await problem(await sign('?x=-5&y=10', pdf), 400, 'invalid_request')
    await problem(await sign('?x=10000&y=10', pdf), 422, 'invalid_seal_position')
    await problem(await sign('?x=590&y=10', pdf), 422, 'invalid_seal_position')
    expect(await count('seal_uses')).toBe(0)
  })

  it('keeps a seal to its owner: another enterprise, the admin token and guessed credentials are refused', async () => {
    const other = await (await t.request('POST', `/v1/enterprises/${testUscc(73)}/seals`, { json: { enterpriseName: '他人有限公司', kind: 'contract' } })).json()
    await problem(await sign('', pdf, other.enterpriseCredential), 403, 'forbidden')
    await problem(await sign('', pdf, 'test-admin-token-0123456789'), 401, 'unauthorized')
    await problem(await sign('', pdf, `tbe_${'A'.repeat(43)}`), 401, 'unauthorized')
    await problem(await t.request('GET', `/v1/seals/${seal.id}/uses`, { token: other.enterpriseCredential }), 404, 'seal_not_found')
    expect(await count('seal_uses')).toBe(0)
  })

  it('answers unknown or malformed seal ids with 404, never 500', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      await problem(await t.request('GET', `/v1/seals/${encodeURIComponent(id)}`, { token: null }), 404, 'seal_not_found')
      await problem(await t.request('GET', `/v1/seals/${encodeURIComponent(id)}/image`, { token: null }), 404, 'seal_not_found')
    }
  })

  it('shows a seal’s public facts without its key', async () => {
    const body = JSON.stringify(await (await t.request('GET', `/v1/seals/${seal.id}`, { token: null })).json())
    expect(body).not.toMatch(/wrapped|privateKey|PRIVATE KEY|v1\.[A-Za-z0-9+/]+=*\./)
    const [row] = await t.db.query<{ wrapped_key: string }>('SELECT wrapped_key FROM seals WHERE id = $1', [seal.id])
    // At rest the key is AES-GCM ciphertext, not PKCS#8.
    expect(row?.wrapped_key).toMatch(/^v1\./)
    expect(Buffer.from(row?.wrapped_key.split('.')[2] ?? '', 'base64').subarray(0, 2).toString('hex')).not.toBe('3081')
  })
})
