import { spawnSync } from 'node:child_process'
import { createHash, createPublicKey, verify as nodeVerify, X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'
import { joseVerify } from '../support/jose-cli'
import { withPayload } from '../support/jws-forge'

/**
 * What we sign must verify with implementations that share no code with ours (DESIGN: "an
 * independent tool checks what we sign"): latchset jose (Debian's `jose` command, C on
 * OpenSSL/jansson) and node:crypto by hand, keyed only from the published GET /v1/jwks.
 * CI installs `jose`; when it is missing these tests fail rather than skip.
 */

interface Jwk {
  kty: string
  crv: string
  x: string
  y: string
  kid: string
  alg: string
  use: string
  x5c: string[]
}

let t: TestApp
let credential: string
let jwks: { keys: Jwk[] }

function nodeVerifies(jws: string, jwk: Jwk): boolean {
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' })
  const dot = jws.lastIndexOf('.')
  return nodeVerify('sha256', Buffer.from(jws.slice(0, dot), 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.slice(dot + 1), 'base64url'))
}

const payloadText = (jws: string) => Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')

beforeAll(async () => {
  t = await createTestApp()
  const issued = await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })
  expect(issued.status).toBe(201)
  credential = ((await issued.json()) as { credential: string }).credential
  jwks = (await (await t.request('GET', '/v1/jwks', { token: null })).json()) as { keys: Jwk[] }
})

afterAll(async () => {
  await t?.close()
})

describe('latchset jose (the `jose` command)', () => {
  it('is installed (CI installs it; a missing tool fails here instead of skipping)', () => {
    const run = spawnSync('jose', ['jws', 'ver', '-h'], { encoding: 'utf8' })
    expect(run.error, 'the `jose` command (Debian package jose) is not installed').toBeUndefined()
    expect(`${run.stdout}${run.stderr}`).toMatch(/Verifies a JWS/)
  })

  it('verifies an issued credential with the JWK Set exactly as GET /v1/jwks serves it (kid, alg, use, x5c kept)', () => {
    const run = joseVerify(credential, jwks)
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe(payloadText(credential))
  })

  it('verifies it with the bare key (kty, crv, x, y only)', () => {
    const [{ kty, crv, x, y }] = jwks.keys as [Jwk]
    expect(joseVerify(credential, { kty, crv, x, y }).status).toBe(0)
  })

  it('refuses the credential with one character of its payload changed', () => {
    const payload = JSON.parse(payloadText(credential))
    payload.credentialSubject.licence.fields.registeredCapital = '伍亿元整'
    const run = joseVerify(withPayload(credential, payload), jwks)
    expect(run.status).not.toBe(0)
  })

  it('refuses the credential under another key', async () => {
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
    const jwk = await crypto.subtle.exportKey('jwk', other.publicKey)
    expect(joseVerify(credential, { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }).status).not.toBe(0)
  })

  it('verifies the status list credential the same signer publishes', async () => {
    const url = JSON.parse(payloadText(credential)).credentialStatus[0].statusListCredential as string
    const list = await (await t.request('GET', new URL(url).pathname, { token: null })).text()
    expect(joseVerify(list, jwks).status).toBe(0)
  })
})

describe('node:crypto by hand', () => {
  it('verifies the credential over its ASCII signing input with the JWK from GET /v1/jwks (IEEE P1363 r‖s)', () => {
    expect(nodeVerifies(credential, jwks.keys[0]!)).toBe(true)
  })

  it('refuses a changed payload', () => {
    const payload = JSON.parse(payloadText(credential))
    payload.validUntil = '2099-12-31T00:00:00.000Z'
    expect(nodeVerifies(withPayload(credential, payload), jwks.keys[0]!)).toBe(false)
  })

  it('finds the JWK consistent with its own x5c and kid: the leaf certificate holds the same key, the kid is its RFC 7638 thumbprint', () => {
    const jwk = jwks.keys[0]!
    expect(JSON.parse(Buffer.from(credential.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'vc+jwt', kid: jwk.kid })
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    const leaf = new X509Certificate(Buffer.from(jwk.x5c[0]!, 'base64'))
    expect(leaf.publicKey.export({ format: 'jwk' })).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y })
    const thumbprint = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url')
    expect(jwk.kid).toBe(thumbprint)
    // Each certificate of x5c is signed by the next, ending in a self-signed root.
    const chain = jwk.x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')))
    chain.forEach((certificate, i) => expect(certificate.verify((chain[i + 1] ?? certificate).publicKey)).toBe(true))
    expect(chain.at(-1)!.checkIssued(chain.at(-1)!)).toBe(true)
  })
})
