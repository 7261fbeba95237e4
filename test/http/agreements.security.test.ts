import { base64url } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSignature, signTermination } from '../../src/adapters/crypto/agreement-jws'
import { signRequest, type SigningKey } from '../../src/adapters/crypto/http-signatures'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import type { AgreementTerms, GeneralJws } from '../../src/core/partner/agreement'
import { createPartnerPair, registerBoth, sampleTerms, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
let gzKey: SigningKey
let lgKey: SigningKey
let counter = 0

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  gzKey = { keyid: await kidOf(pair.gz.pki['partner-auth'].certificate), privateKey: pair.gz.pki['partner-auth'].privateKey! }
  lgKey = { keyid: await kidOf(pair.lg.pki['partner-auth'].certificate), privateKey: pair.lg.pki['partner-auth'].privateKey! }
})
afterAll(() => pair.close())

const terms = (id: string, changes: Record<string, unknown> = {}) => sampleTerms({ id, ...changes }) as unknown as AgreementTerms

/** Sends 龙岗's partner API a request signed as 赣州. */
async function asGanzhou(path: string, body: unknown) {
  const bytes = new TextEncoder().encode(JSON.stringify(body))
  const headers = { 'content-type': 'application/json', ...(await signRequest({ method: 'POST', url: `http://lg.test${path}`, body: bytes }, gzKey, new Date(), `agreement-test-${++counter}-${Date.now()}`)) }
  const response = await pair.lg.app.request(path, { method: 'POST', headers, body: bytes })
  return { status: response.status, body: (await response.json()) as { code?: string; status?: string; errors?: Array<{ pointer: string }> } }
}

const importAt = async (side: 'gz' | 'lg', agreement: GeneralJws) => {
  const response = await pair[side].request('POST', '/v1/admin/agreements/import', { json: { agreement } })
  return { status: response.status, body: (await response.json()) as { code?: string; status?: string } }
}

describe('agreement signatures', () => {
  it('a copy whose terms were changed after signing is refused, and nothing is stored', async () => {
    const signed = await addSignature(terms('sec-tampered'), '360700', gzKey)
    const changed = { ...JSON.parse(new TextDecoder().decode(base64url.decode(signed.payload))), rateLimit: { requests: 1_000_000, perSeconds: 1 } }
    const forged = { ...signed, payload: base64url.encode(JSON.stringify(changed)) }
    expect(await asGanzhou('/v1/partner/agreements', { agreement: forged })).toMatchObject({ status: 422, body: { code: 'agreement_bad_signature' } })
    expect((await pair.lg.request('GET', '/v1/admin/agreements/sec-tampered')).status).toBe(404)
  })

  it('a signature that claims 龙岗 but is made with 赣州’s key is refused', async () => {
    const forged = await addSignature(await addSignature(terms('sec-claimed'), '360700', gzKey), '440307', gzKey)
    expect(await asGanzhou('/v1/partner/agreements', { agreement: forged })).toMatchObject({ status: 422, body: { code: 'agreement_bad_signature' } })
    expect(await importAt('lg', forged)).toMatchObject({ status: 422, body: { code: 'agreement_bad_signature' } })
  })

  it('a partner cannot deliver an agreement it has not signed itself', async () => {
    const onlyLonggang = await addSignature(terms('sec-unsigned'), '440307', lgKey)
    expect(await asGanzhou('/v1/partner/agreements', { agreement: onlyLonggang })).toMatchObject({ status: 422, body: { code: 'agreement_bad_signature' } })
  })

  it('an agreement that does not name the caller is refused', async () => {
    const other = terms('sec-other', { regions: [{ code: '440307', name: '深圳市龙岗区' }, { code: '110105', name: '北京市朝阳区' }], grants: [{ by: '440307', to: '110105', verify: [], acceptMatters: [] }] })
    const signed = await addSignature(other, '360700', gzKey)
    expect((await asGanzhou('/v1/partner/agreements', { agreement: signed })).status).toBe(422)
  })

  it('the same id with other terms is a conflict, and the first terms stay', async () => {
    const first = await addSignature(terms('sec-conflict'), '360700', gzKey)
    expect((await asGanzhou('/v1/partner/agreements', { agreement: first })).status).toBe(200)
    const second = await addSignature(terms('sec-conflict', { title: '另一份协议' }), '360700', gzKey)
    expect(await asGanzhou('/v1/partner/agreements', { agreement: second })).toMatchObject({ status: 409, body: { code: 'agreement_conflict' } })
    const held = (await (await pair.lg.request('GET', '/v1/admin/agreements/sec-conflict')).json()) as { terms: { title: string } }
    expect(held.terms.title).not.toBe('另一份协议')
  })

  it('an unsigned call to the agreement endpoint is refused at the door', async () => {
    const response = await pair.lg.app.request('/v1/partner/agreements', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agreement: await addSignature(terms('sec-door'), '360700', gzKey) }) })
    expect(response.status).toBe(401)
    expect(((await response.json()) as { code: string }).code).toBe('partner_unsigned')
  })
})

describe('terms', () => {
  it('are checked against the schema and the catalogue, every problem named, nothing stored', async () => {
    const bad = sampleTerms({
      id: 'sec-bad-terms',
      validUntil: '2020-01-01T00:00:00Z',
      grants: [{ by: '440307', to: '360700', verify: [{ licenceType: 'business-licence', fields: ['entityType', 'bankAccount'] }, { licenceType: 'no-such-type', fields: [] }], acceptMatters: ['no-such-matter'] }],
    })
    const response = await pair.gz.request('POST', '/v1/admin/agreements', { json: bad })
    expect(response.status).toBe(422)
    const problem = (await response.json()) as { code: string; errors: Array<{ pointer: string }> }
    expect(problem.code).toBe('invalid_agreement')
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(['/grants/0/acceptMatters/0', '/grants/0/verify/0/fields/1', '/grants/0/verify/1/licenceType', '/validUntil'])
    expect((await pair.gz.request('GET', '/v1/admin/agreements/sec-bad-terms')).status).toBe(404)
  })

  it('must name this region', async () => {
    const response = await pair.gz.request('POST', '/v1/admin/agreements', { json: sampleTerms({ id: 'sec-not-us', regions: [{ code: '440307', name: '深圳市龙岗区' }, { code: '110105', name: '北京市朝阳区' }], grants: [{ by: '440307', to: '110105', verify: [], acceptMatters: [] }] }) })
    expect(response.status).toBe(422)
  })

  it('with an unregistered partner are refused', async () => {
    const response = await pair.gz.request('POST', '/v1/admin/agreements', { json: sampleTerms({ id: 'sec-stranger', regions: [{ code: '360700', name: '赣州市' }, { code: '110105', name: '北京市朝阳区' }], grants: [{ by: '110105', to: '360700', verify: [], acceptMatters: [] }] }) })
    expect(response.status).toBe(409)
    expect(((await response.json()) as { code: string }).code).toBe('partner_not_trusted')
  })
})

describe('termination', () => {
  beforeAll(async () => {
    expect((await pair.gz.request('POST', '/v1/admin/agreements', { json: sampleTerms({ id: 'sec-live' }) })).status).toBe(201)
    expect((await pair.lg.request('POST', '/v1/admin/agreements/sec-live/countersignature')).status).toBe(200)
  })

  it('countersigning twice is an impossible transition', async () => {
    const response = await pair.lg.request('POST', '/v1/admin/agreements/sec-live/countersignature')
    expect(response.status).toBe(409)
  })

  it('a termination not signed by the caller’s key is refused and the agreement stays in force', async () => {
    const byLonggangKey = await signTermination({ type: 'tongban-agreement-termination', agreement: 'sec-live', by: '360700', at: new Date().toISOString(), reason: 'forged' }, lgKey)
    expect(await asGanzhou('/v1/partner/agreements/sec-live/termination', { termination: byLonggangKey })).toMatchObject({ status: 422, body: { code: 'invalid_termination' } })
    const forOther = await signTermination({ type: 'tongban-agreement-termination', agreement: 'sec-conflict', by: '360700', at: new Date().toISOString(), reason: 'wrong id' }, gzKey)
    expect(await asGanzhou('/v1/partner/agreements/sec-live/termination', { termination: forOther })).toMatchObject({ status: 422, body: { code: 'invalid_termination' } })
    expect(pair.lg.deps.partners.scope.agreementWith('360700', new Date())?.id).toBe('sec-live')
  })

  it('of an unknown agreement is 404', async () => {
    const statement = await signTermination({ type: 'tongban-agreement-termination', agreement: 'sec-nothing', by: '360700', at: new Date().toISOString(), reason: 'x' }, gzKey)
    expect(await asGanzhou('/v1/partner/agreements/sec-nothing/termination', { termination: statement })).toMatchObject({ status: 404, body: { code: 'agreement_not_found' } })
  })

  it('admin agreement routes need the admin token', async () => {
    for (const [method, path] of [['GET', '/v1/admin/agreements'], ['POST', '/v1/admin/agreements/sec-live/termination'], ['POST', '/v1/admin/agreements/import']] as const) {
      expect((await pair.lg.request(method, path, { token: null, ...(method === 'POST' ? { json: {} } : {}) })).status).toBe(401)
    }
  })
})
