import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JwsSigner } from '../../src/core/ports'
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app'
import { databaseKind } from '../support/database'
import { businessLicenceRequest, testUscc } from '../support/fixtures'

/**
 * The issuer API answers only a bearer ADMIN_TOKEN in the Authorization header: anything else is
 * a 401 problem with a WWW-Authenticate challenge, decided before the body is read or the licence
 * looked up. Ids that look like SQL are just ids that do not exist, and every response carries
 * the security headers.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'

let t: TestApp
let failSigning = false
beforeAll(async () => {
  t = await createTestApp({
    wrapSigner: (signer: JwsSigner): JwsSigner => ({
      kid: signer.kid,
      alg: signer.alg,
      sign: async (payload, header) => {
        if (failSigning) throw new Error('simulated signer failure')
        return signer.sign(payload, header)
      },
    }),
  })
})
afterAll(() => t.close())

describe(`the issuer API's authentication (${databaseKind})`, () => {
  let licence: { id: string }

  beforeAll(async () => {
    licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
  })

  const issuerEndpoints = () =>
    [
      ['POST', '/v1/licences', businessLicenceRequest()],
      ['GET', `/v1/licences/${licence.id}`, undefined],
      ['GET', `/v1/licences/${licence.id}/credential`, undefined],
      ['POST', `/v1/licences/${licence.id}/suspend`, { reason: '检查' }],
      ['POST', `/v1/licences/${licence.id}/reinstate`, {}],
      ['POST', `/v1/licences/${licence.id}/revoke`, { reason: '注销' }],
      ['POST', `/v1/licences/${licence.id}/change`, { reason: '更名', holderName: '别的名字有限公司' }],
    ] as const

  const credentials: Array<[string, Record<string, string>, string]> = [
    ['no Authorization header', {}, ''],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abc' }, ''],
    ['the token with one character changed', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}X` }, ''],
    ['a prefix of the token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, 10)}` }, ''],
    ['the token with a suffix', { authorization: `Bearer ${ADMIN_TOKEN}0` }, ''],
    ['an empty bearer token', { authorization: 'Bearer ' }, ''],
    ['the scheme alone', { authorization: 'Bearer' }, ''],
    ['the token without a scheme', { authorization: ADMIN_TOKEN }, ''],
    ['the Basic scheme with the token as password', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }, ''],
    ['the Basic scheme with the raw token', { authorization: `Basic ${ADMIN_TOKEN}` }, ''],
    ['the token twice', { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` }, ''],
    ['the token in the query string (token)', {}, `?token=${ADMIN_TOKEN}`],
    ['the token in the query string (access_token)', {}, `?access_token=${ADMIN_TOKEN}`],
    ['the token in a cookie', { cookie: `token=${ADMIN_TOKEN}; access_token=${ADMIN_TOKEN}` }, ''],
    ['the token in X-Api-Key', { 'x-api-key': ADMIN_TOKEN }, ''],
  ]

  async function counts() {
    return t.db.query('SELECT (SELECT count(*) FROM licences)::int AS licences, (SELECT count(*) FROM licence_events)::int AS events, (SELECT count(*) FROM idempotency_keys)::int AS keys')
  }

  describe.each(credentials)('%s', (_, headers, query) => {
    it('is 401 unauthorized with a Bearer challenge on every issuer endpoint, and writes nothing', async () => {
      const before = await counts()
      for (const [method, path, json] of issuerEndpoints()) {
        const response = await t.request(method, `${path}${query}`, { token: null, headers: { ...headers, 'idempotency-key': 'unauthorised' }, ...(json ? { json } : {}) })
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 })
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tongban"')
        expect(response.headers.get('content-type')).toBe('application/problem+json')
        const problem = await response.json()
        expect(problem).toMatchObject({ type: 'https://tongban.dev/problems/unauthorized', status: 401, code: 'unauthorized', title: 'Unauthorized' })
        expect(JSON.stringify(problem)).not.toContain(ADMIN_TOKEN)
      }
      expect(await counts()).toEqual(before)
    })
  })

  it('decides authentication before reading the body: bad JSON, a bad USCC or an oversized body without a token are 401', async () => {
    const send = (init: Parameters<TestApp['request']>[2]) => t.request('POST', '/v1/licences', { token: null, ...init })
    expect((await send({ body: '{"type":', headers: { 'content-type': 'application/json' } })).status).toBe(401)
    expect((await send({ body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(401)
    expect((await send({ json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: 'x', name: 'x' } }) })).status).toBe(401)
    expect((await send({ json: businessLicenceRequest({ type: 'nope' }) })).status).toBe(401)
  })

  it('does not say whether a licence exists to a caller without a token', async () => {
    const known = await t.request('GET', `/v1/licences/${licence.id}`, { token: null })
    const unknown = await t.request('GET', `/v1/licences/${UNKNOWN_ID}`, { token: null })
    expect([known.status, unknown.status]).toEqual([401, 401])
    expect((await known.json()).detail).toBe((await unknown.json()).detail)
  })

  it('accepts the token with the scheme in any case and extra spaces (RFC 9110 §11.1)', async () => {
    for (const authorization of [`bearer ${ADMIN_TOKEN}`, `BEARER ${ADMIN_TOKEN}`, `Bearer   ${ADMIN_TOKEN}`]) {
      expect((await t.request('GET', `/v1/licences/${licence.id}`, { token: null, headers: { authorization } })).status).toBe(200)
    }
  })

  it('leaves the public endpoints open', async () => {
    for (const path of ['/healthz', '/.well-known/tongban', '/v1/jwks', '/v1/trust-list', '/v1/licence-types', '/openapi.json', '/docs']) {
      expect({ path, status: (await t.request('GET', path, { token: null })).status }).toEqual({ path, status: 200 })
    }
    const credential = await (await t.request('GET', `/v1/licences/${licence.id}/credential`)).text()
    expect((await t.request('POST', '/v1/verify', { token: null, json: { credential } })).status).toBe(200)
  })

  it('the licence is untouched by every refused request', async () => {
    const detail = await (await t.request('GET', `/v1/licences/${licence.id}`)).json()
    expect(detail).toMatchObject({ status: 'active', version: 1 })
    expect(detail.events).toHaveLength(1)
  })
})

describe(`ids that look like attacks (${databaseKind})`, () => {
  let before: unknown
  beforeAll(async () => {
    await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })
    before = await t.db.query('SELECT id, status, status_reason, version FROM licences ORDER BY id')
  })

  const ids = [
    "1' OR '1'='1",
    "' OR 1=1 --",
    `${UNKNOWN_ID}' OR '1'='1`,
    "'; DROP TABLE licences; --",
    '1; SELECT pg_sleep(5)',
    `${UNKNOWN_ID}; DELETE FROM licences`,
    "' UNION SELECT * FROM licences --",
    '$1',
    '%',
    '_',
    '*',
    '\\',
    '../../etc/passwd',
    '%00',
    '\u0000',
    '😀',
    '{"$ne":null}',
    '<script>alert(1)</script>',
    'a'.repeat(10_000),
    '00000000-0000-0000-0000-00000000000G',
    '0000000000000000000000000000000Z',
  ]

  // Already percent-encoded: a lone surrogate and a truncated sequence, neither of them UTF-8.
  const rawSegments = ['%ED%A0%80', '%E0%A4%A', '%FF%FE', '%']

  it.each([
    ...ids.map((id) => [id.length > 60 ? `${id.slice(0, 20)}… (${id.length})` : JSON.stringify(id), encodeURIComponent(id)]),
    ...rawSegments.map((segment) => [`raw ${segment}`, segment]),
  ])('%s is 404 licence_not_found, never 500', async (_, segment) => {
    const path = `/v1/licences/${segment}`
    for (const [method, suffix, json] of [
      ['GET', '', undefined],
      ['GET', '/credential', undefined],
      ['POST', '/suspend', { reason: '检查' }],
      ['POST', '/reinstate', {}],
      ['POST', '/revoke', { reason: '注销' }],
      ['POST', '/change', { reason: '更名', holderName: '别的名字有限公司' }],
    ] as const) {
      const response = await t.request(method, `${path}${suffix}`, json ? { json } : {})
      expect({ method, suffix, status: response.status }).toEqual({ method, suffix, status: 404 })
      expect((await response.json()).code).toBe('licence_not_found')
    }
  })

  it('dot segments resolve to another path and are 404 there, never 500', async () => {
    for (const path of ['/v1/licences/..', '/v1/licences/../licences', '/v1/licences/%2e%2e', '/v1/licences/./x']) {
      const response = await t.request('GET', path)
      expect({ path, status: response.status }).toEqual({ path, status: 404 })
      expect(['not_found', 'licence_not_found']).toContain((await response.json()).code)
    }
  })

  it('every licence is still there and unchanged, and nothing was logged as an unhandled error', async () => {
    expect(await t.db.query('SELECT id, status, status_reason, version FROM licences ORDER BY id')).toEqual(before)
    expect(t.logged).toEqual([])
  })

  it('status list ids that look like attacks are 400 or 404, never 500', async () => {
    for (const id of ["r1' OR '1'='1", 'r1;', '../r1', 'r-1', 'r99999999999', '%00']) {
      const response = await t.request('GET', `/v1/status/${encodeURIComponent(id)}`)
      expect([400, 404]).toContain(response.status)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
    }
  })
})

describe(`security headers (${databaseKind})`, () => {
  function expectSecurityHeaders(response: Response) {
    const h = response.headers
    expect(h.get('x-content-type-options')).toBe('nosniff')
    expect(h.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(h.get('referrer-policy')).toBe('no-referrer')
    expect(h.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/)
    expect(h.get('cross-origin-opener-policy')).toBe('same-origin')
    expect(h.get('x-permitted-cross-domain-policies')).toBe('none')
    expect(h.get('x-powered-by')).toBeNull()
    expect(h.get('server')).toBeNull()
  }

  it('are on successful answers, on problems (400, 401, 404, 413, 415, 422) and on the one 500', async () => {
    const responses: Array<[string, Response]> = [
      ['200 healthz', await t.request('GET', '/healthz')],
      ['200 trust list', await t.request('GET', '/v1/trust-list')],
      ['201 issue', await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })],
      ['400', await t.request('POST', '/v1/licences', { body: '{', headers: { 'content-type': 'application/json' } })],
      ['401', await t.request('GET', `/v1/licences/${UNKNOWN_ID}`, { token: null })],
      ['404 route', await t.request('GET', '/nowhere')],
      ['404 licence', await t.request('GET', `/v1/licences/${UNKNOWN_ID}`)],
      ['413', await t.request('POST', '/v1/licences', { body: new Uint8Array(10 * 1024 * 1024 + 1), headers: { 'content-type': 'application/json' } })],
      ['415', await t.request('POST', '/v1/licences', { body: 'x', headers: { 'content-type': 'text/plain' } })],
      ['422', await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ type: 'nope' }) })],
    ]
    failSigning = true
    responses.push(['500', await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })])
    failSigning = false
    for (const [label, response] of responses) {
      expect({ label, status: response.status }).toEqual({ label, status: Number(label.slice(0, 3)) })
      expectSecurityHeaders(response)
    }
  })

  it('a 500 says nothing about its cause', async () => {
    failSigning = true
    const response = await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })
    failSigning = false
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({
      type: 'https://tongban.dev/problems/internal_error',
      title: 'Internal Server Error',
      status: 500,
      code: 'internal_error',
      detail: 'the service failed to answer; the failure is logged',
      instance: '/v1/licences',
    })
    expect(text).not.toMatch(/simulated|stack|at .*\.ts/)
  })
})

describe('caching of personal data', () => {
  it('licence and seal answers that carry holders or credentials say Cache-Control: no-store', async () => {
    const app = await createTestApp()
    try {
      const issued = await app.request('POST', '/v1/licences', { json: businessLicenceRequest() })
      expect(issued.headers.get('cache-control')).toBe('no-store')
      const { id } = await issued.json()
      expect((await app.request('GET', `/v1/licences/${id}`)).headers.get('cache-control')).toBe('no-store')
      expect((await app.request('GET', `/v1/licences/${id}/credential`)).headers.get('cache-control')).toBe('no-store')
      expect((await app.request('GET', `/v1/licences/${id}`, { token: null })).headers.get('cache-control')).toBe('no-store')
      const seals = await app.request('POST', `/v1/enterprises/${testUscc(3)}/seals`, { json: { enterpriseName: '缓存测试有限公司', kind: 'contract' } })
      expect(seals.headers.get('cache-control')).toBe('no-store')
    } finally {
      await app.close()
    }
  })
})
