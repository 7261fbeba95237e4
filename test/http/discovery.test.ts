import { X509Certificate } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { compactVerify, decodeProtectedHeader, importJWK, importX509, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { databaseKind } from '../support/database'
import { businessLicenceRequest } from '../support/fixtures'

/**
 * What a region publishes about itself, checked with tools other than the ones that made it:
 * Node's X509Certificate for the chains, jose for the signatures, zlib for the status bits.
 */

const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
const der = (base64: string) => new X509Certificate(Buffer.from(base64, 'base64'))
const sha256Hex = (cert: X509Certificate) => cert.fingerprint256.replaceAll(':', '').toLowerCase()

/** Checks that each certificate is issued by the next and the last is a self-signed root. */
function expectChain(chain: X509Certificate[]) {
  for (let i = 0; i < chain.length - 1; i++) {
    const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate]
    expect(child.checkIssued(parent)).toBe(true)
    expect(child.verify(parent.publicKey)).toBe(true)
  }
  const root = chain.at(-1) as X509Certificate
  expect(root.checkIssued(root)).toBe(true)
  expect(root.verify(root.publicKey)).toBe(true)
  expect(root.ca).toBe(true)
}

/** Bit `index` of a W3C Bitstring Status List, decoded by hand: MSB of byte 0 is index 0. */
function bitOf(encodedList: string, index: number): boolean {
  expect(encodedList.startsWith('u')).toBe(true)
  const bytes = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'))
  return ((bytes[index >> 3] as number) & (0x80 >> (index & 7))) !== 0
}

describe(`discovery endpoints (${databaseKind})`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  const get = (path: string) => t.request('GET', path, { token: null })

  it('GET /healthz is ok', async () => {
    const response = await get('/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })

  it('GET /.well-known/tongban names the region, its bureau and every endpoint, all under the public URL', async () => {
    const response = await get('/.well-known/tongban')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const descriptor = await response.json()
    expect(descriptor.region).toEqual({ code: '360700', name: '赣州市' })
    expect(descriptor.issuer).toEqual({ name: '赣州市行政审批局', uscc: '11360700MB00000015' })
    expect(descriptor.baseUrl).toBe('http://tongban.test')
    expect(descriptor.endpoints).toEqual(
      expect.objectContaining({
        jwks: 'http://tongban.test/v1/jwks',
        trustList: 'http://tongban.test/v1/trust-list',
        statusLists: 'http://tongban.test/v1/status/',
        verify: 'http://tongban.test/v1/verify',
        openapi: 'http://tongban.test/openapi.json',
        docs: 'http://tongban.test/docs',
      }),
    )
    for (const url of Object.values(descriptor.endpoints) as string[]) {
      expect(url.startsWith('http://tongban.test/')).toBe(true)
      if (url.endsWith('/')) continue
      const path = new URL(url).pathname
      const method = path === '/v1/verify' ? 'POST' : 'GET'
      expect({ path, routed: (await t.request(method, path, { token: null })).status !== 404 }).toEqual({ path, routed: true })
    }
    expect(descriptor.root.sha256).toBe(sha256Hex(der((await (await get('/v1/jwks')).json()).keys[0].x5c[2])))
  })

  it('GET /v1/jwks: one ES256 P-256 key with its kid and an x5c chain of three up to the root', async () => {
    const response = await get('/v1/jwks')
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toMatch(/public/)
    const { keys } = await response.json()
    expect(keys).toHaveLength(1)
    const [key] = keys
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.stringMatching(/^[\w-]{43}$/) })
    expect(key.d).toBeUndefined()
    expect(key.x5c).toHaveLength(3)
    const chain = (key.x5c as string[]).map(der)
    expectChain(chain)
    // The JWK is the leaf certificate's key.
    const leafJwk = (chain[0] as X509Certificate).publicKey.export({ format: 'jwk' })
    expect({ x: key.x, y: key.y }).toEqual({ x: leafJwk.x, y: leafJwk.y })
  })

  it('the JWKS key verifies an issued credential, whose kid it carries', async () => {
    const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    const { keys } = await (await get('/v1/jwks')).json()
    const header = decodeProtectedHeader(licence.credential)
    expect(header).toMatchObject({ alg: 'ES256', typ: 'vc+jwt', kid: keys[0].kid })
    const verified = await compactVerify(licence.credential, await importJWK(keys[0] as JWK, 'ES256'))
    expect(JSON.parse(new TextDecoder().decode(verified.payload)).credentialSubject.licence.number).toBe(licence.number)
  })

  it('GET /v1/trust-list: a signed JWS with sequence, a future validUntil and the certificates by role, each chaining to the root', async () => {
    const response = await get('/v1/trust-list')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/jwt')
    const jws = await response.text()
    expect(jws.split('.')).toHaveLength(3)

    const header = decodeProtectedHeader(jws)
    expect(header).toMatchObject({ alg: 'ES256', typ: 'tongban-trust-list+jwt' })
    const headerChain = (header.x5c as string[]).map(der)
    expect(headerChain).toHaveLength(3)
    expectChain(headerChain)
    const signerKey = await importX509((headerChain[0] as X509Certificate).toString(), 'ES256')
    const list = JSON.parse(new TextDecoder().decode((await compactVerify(jws, signerKey)).payload))

    expect(list.format).toBe('tongban-trust-list/1')
    expect(list.region).toEqual({ code: '360700', name: '赣州市', baseUrl: 'http://tongban.test' })
    expect(list.sequence).toBeGreaterThanOrEqual(1)
    expect(Number.isInteger(list.sequence)).toBe(true)
    expect(Date.parse(list.validUntil)).toBeGreaterThan(Date.now())
    expect(Date.parse(list.issuedAt)).toBeLessThanOrEqual(Date.now())
    expect(list.statusListBase).toBe('http://tongban.test/v1/status/')

    const roles = list.certificates.map((c: { role: string }) => c.role)
    expect(roles).toEqual(expect.arrayContaining(['root', 'issuing-ca', 'document-signer', 'trust-list-signer']))
    expect(new Set(roles).size).toBe(roles.length)
    const byRole = Object.fromEntries(list.certificates.map((c: { role: string; certificate: string }) => [c.role, c]))
    const root = der(byRole.root.certificate)
    const descriptor = await (await get('/.well-known/tongban')).json()
    expect(sha256Hex(root)).toBe(descriptor.root.sha256)
    for (const entry of list.certificates as Array<{ role: string; certificate: string; sha256: string; notBefore: string; notAfter: string }>) {
      const cert = der(entry.certificate)
      expect(entry.sha256).toBe(sha256Hex(cert))
      expect(Date.parse(entry.notAfter)).toBe(Date.parse(cert.validTo))
      expect(Date.parse(entry.notBefore)).toBe(Date.parse(cert.validFrom))
      const issuers = [root, der(byRole['issuing-ca'].certificate)]
      expect({ role: entry.role, chainsToRoot: issuers.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey)) }).toEqual({ role: entry.role, chainsToRoot: true })
    }
    // The trust list signer is the one the list names, and the document signer matches the JWKS.
    expect(sha256Hex(headerChain[0] as X509Certificate)).toBe(byRole['trust-list-signer'].sha256)
    const { keys } = await (await get('/v1/jwks')).json()
    expect(byRole['document-signer']).toMatchObject({ kid: keys[0].kid, alg: 'ES256', certificate: keys[0].x5c[0] })
  })

  it('the trust list is stable between requests (same sequence, same bytes)', async () => {
    const [a, b] = await Promise.all([get('/v1/trust-list'), get('/v1/trust-list')])
    expect(await a.text()).toBe(await b.text())
  })

  describe('GET /v1/status/{listId}', () => {
    let licence: { id: string; credential: string }
    let entries: Array<{ statusPurpose: string; statusListIndex: string; statusListCredential: string }>

    beforeAll(async () => {
      licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
      entries = json(licence.credential.split('.')[1] as string).credentialStatus
    })

    async function statusList(purpose: 'revocation' | 'suspension') {
      const entry = entries.find((e) => e.statusPurpose === purpose)
      if (!entry) throw new Error(`no ${purpose} entry`)
      expect(entry.statusListCredential.startsWith('http://tongban.test/v1/status/')).toBe(true)
      const response = await get(new URL(entry.statusListCredential).pathname)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/vc+jwt')
      const jws = await response.text()
      const { keys } = await (await get('/v1/jwks')).json()
      expect(decodeProtectedHeader(jws)).toMatchObject({ alg: 'ES256', typ: 'vc+jwt', kid: keys[0].kid })
      const payload = JSON.parse(new TextDecoder().decode((await compactVerify(jws, await importJWK(keys[0] as JWK, 'ES256'))).payload))
      expect(payload).toMatchObject({
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: entry.statusListCredential,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        credentialSubject: { type: 'BitstringStatusList', statusPurpose: purpose },
      })
      expect(Date.parse(payload.validUntil)).toBeGreaterThan(Date.now())
      const bits = gunzipSync(Buffer.from(payload.credentialSubject.encodedList.slice(1), 'base64url'))
      // Herd privacy: at least 131,072 entries (16 KiB), as the Bitstring Status List spec asks.
      expect(bits.length).toBeGreaterThanOrEqual(16 * 1024)
      return { index: Number(entry.statusListIndex), isSet: bitOf(payload.credentialSubject.encodedList, Number(entry.statusListIndex)), bits }
    }

    it("the licence's bits are clear while it is active", async () => {
      expect((await statusList('revocation')).isSet).toBe(false)
      expect((await statusList('suspension')).isSet).toBe(false)
    })

    it('suspending sets the suspension bit, reinstating clears it', async () => {
      await t.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '现场检查' } })
      expect((await statusList('suspension')).isSet).toBe(true)
      expect((await statusList('revocation')).isSet).toBe(false)
      await t.request('POST', `/v1/licences/${licence.id}/reinstate`, { json: {} })
      expect((await statusList('suspension')).isSet).toBe(false)
    })

    it('revoking sets the revocation bit, and only that bit', async () => {
      const before = await statusList('revocation')
      const setBefore = [...before.bits].reduce((n, byte) => n + byte.toString(2).replaceAll('0', '').length, 0)
      await t.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '申请人主动注销' } })
      const after = await statusList('revocation')
      expect(after.isSet).toBe(true)
      const setAfter = [...after.bits].reduce((n, byte) => n + byte.toString(2).replaceAll('0', '').length, 0)
      expect(setAfter).toBe(setBefore + 1)
    })

    it('the revocation survives a restart: a fresh status registry loaded from the database sets the same bit', async () => {
      await t.statusRegistry.load()
      expect((await statusList('revocation')).isSet).toBe(true)
    })

    it('an unknown list is 404 status_list_not_found', async () => {
      const response = await get('/v1/status/r424242')
      expect(response.status).toBe(404)
      expect((await response.json()).code).toBe('status_list_not_found')
    })
  })
})

describe(`the OpenAPI document and its docs page (${databaseKind})`, () => {
  let t: TestApp
  let doc: {
    openapi: string
    info: { title: string; version: string }
    paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }>; responses: Record<string, unknown>; security?: Array<Record<string, unknown>> }>>
    components: { schemas: Record<string, unknown>; securitySchemes?: Record<string, unknown> }
  }
  beforeAll(async () => {
    t = await createTestApp()
    const response = await t.request('GET', '/openapi.json', { token: null })
    expect(response.status).toBe(200)
    doc = await response.json()
  })
  afterAll(() => t.close())

  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

  it('is an OpenAPI 3.1 document with info and servers', async () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(doc.info.title).toEqual(expect.any(String))
    expect(doc.info.version).toEqual(expect.any(String))
    expect((doc as unknown as { servers: Array<{ url: string }> }).servers).toEqual([{ url: 'http://tongban.test' }])
  })

  it("lists exactly the app's routes (every method and path the app answers, none it does not)", () => {
    const routed = new Set(
      t.app.routes
        // The web pages (/verify, /holder, /bank and their assets) are HTML for people, not API: docs/holders.md describes them.
        .filter((route) => route.method !== 'ALL' && !['/openapi.json', '/docs'].includes(route.path) && !/^\/(verify|holder|bank|assets)(\/|$)/.test(route.path))
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((k) => METHODS.includes(k)).map((m) => `${m} ${path}`)))
    expect([...documented].sort()).toEqual([...routed].sort())
    for (const route of ['get /healthz', 'get /.well-known/tongban', 'get /v1/jwks', 'get /v1/trust-list', 'get /v1/status/{listId}', 'post /v1/verify', 'post /v1/licences', 'get /v1/licences/{id}']) {
      expect(documented).toContain(route)
    }
  })

  it('is well formed: path parameters declared, every operation answers something, every $ref resolves', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true)
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path')
        expect({ path, method, params: declared.map((p) => p.name).sort() }).toEqual({ path, method, params: [...templated].sort() })
        expect(declared.every((p) => p.required === true)).toBe(true)
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0)
        for (const status of Object.keys(operation.responses)) expect(status).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/)
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(scheme)
        }
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string)
    expect(refs.length).toBeGreaterThan(0)
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/')).toBe(true)
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, token) => (node as Record<string, unknown> | undefined)?.[token.replaceAll('~1', '/').replaceAll('~0', '~')], doc)
      expect({ ref, resolves: target !== undefined }).toEqual({ ref, resolves: true })
    }
  })

  it('documents every 4xx as an RFC 9457 problem, and the issuer operations as needing the bearer token', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!status.startsWith('4')) continue
          expect({ path, method, status, content: Object.keys((response as { content?: object }).content ?? {}) }).toEqual({ path, method, status, content: ['application/problem+json'] })
        }
        if (path.startsWith('/v1/licences')) expect(operation.security).toEqual([{ bearerAuth: [] }])
      }
    }
    expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'code', 'detail']) })
  })

  it('GET /docs is an HTML page that loads /openapi.json', async () => {
    const response = await t.request('GET', '/docs', { token: null })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await response.text()
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).toContain('/openapi.json')
  })
})
