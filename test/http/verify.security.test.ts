import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import { completeRegionPki, type RegionPki } from '../../src/adapters/crypto/pki'
import { base64Der } from '../../src/adapters/crypto/x509'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'
import {
  b64,
  b64json,
  newEs256KeyPair,
  P256_ORDER,
  p1363,
  rs,
  signCompact,
  signHs256,
  splitJws,
  unsecured,
  withPayload,
  withSignature,
  type Json,
} from '../support/jws-forge'

/**
 * Attacks on POST /v1/verify, each through the real app. Each must end in the right indication
 * and sub-indication, decided by the right check (the first failed check in policy order), and
 * each is still a 200 report: a credential that fails is an answer, not an error.
 */

interface Check {
  name: string
  result: 'passed' | 'failed' | 'skipped'
  detail: string
}
interface Report {
  indication: string
  subIndication: string | null
  checks: Check[]
  licence: { status: string; id: string | null } | null
  signer: { kid: string } | null
}

let t: TestApp
let credential: string
let licence: { id: string; credential: string }
let realKid: string
let documentSignerKey: CryptoKey
let header: Json
let payload: Json
let attacker: CryptoKeyPair
let attackerKid: string
let attackerPki: RegionPki

/** A loopback server that counts every request: a verifier that fetched a URL named in a token would show up here. */
let trap: Server
let trapUrl: string
const trapHits: string[] = []
let fetchSpy: MockInstance<typeof fetch>

async function verify(jws: string, at?: string): Promise<Report> {
  const response = await t.request('POST', '/v1/verify', { json: { credential: jws, ...(at ? { at } : {}) }, token: null })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return (await response.json()) as Report
}

const check = (report: Report, name: string) => report.checks.find((c) => c.name === name)

/** The verdict and the check that decided it: the first failed check, in policy order. */
function expectVerdict(report: Report, indication: string, subIndication: string, decidedBy: string) {
  const failed = report.checks.filter((c) => c.result === 'failed')
  expect({ indication: report.indication, subIndication: report.subIndication, decidedBy: failed[0]?.name }, JSON.stringify(failed)).toEqual({
    indication,
    subIndication,
    decidedBy,
  })
}

/** The signature was never accepted: either tried and refused, or never tried at all. */
function expectSignatureNotAccepted(report: Report) {
  expect(check(report, 'signature')?.result).not.toBe('passed')
  expect(report.licence === null || report.indication !== 'TOTAL_PASSED').toBe(true)
}

const signAsRegion = (h: Json, p: unknown) => signCompact(h, p, documentSignerKey)

async function issue(overrides: Record<string, unknown> = {}) {
  const response = await t.request('POST', '/v1/licences', { json: businessLicenceRequest(overrides) })
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; credential: string; validFrom: string; validUntil: string }
}

beforeAll(async () => {
  t = await createTestApp()
  licence = await issue()
  credential = licence.credential
  ;({ header, payload } = splitJws(credential))
  realKid = header.kid as string
  documentSignerKey = t.pki['document-signer'].privateKey!
  attacker = await newEs256KeyPair()
  attackerKid = await calculateJwkThumbprint(await exportJWK(attacker.publicKey), 'sha256')
  // The attacker's PKI copies the region's names exactly; only its keys differ.
  attackerPki = (await completeRegionPki({ regionCode: '360700', regionName: '赣州市', bureauName: '赣州市行政审批局' }, {}, new Date())).pki

  trap = createServer((request, response) => {
    trapHits.push(`${request.method} ${request.url}`)
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys: [] }))
  })
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`
  fetchSpy = vi.spyOn(globalThis, 'fetch')
})

afterEach(() => {
  expect(trapHits, 'the verifier fetched a URL named in a token').toEqual([])
  expect(fetchSpy).not.toHaveBeenCalled()
})

afterAll(async () => {
  fetchSpy?.mockRestore()
  await new Promise((resolve) => trap?.close(resolve))
  await t?.close()
})

describe('the genuine credential', () => {
  it('passes every check (the baseline every attack below starts from)', async () => {
    const report = await verify(credential)
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.checks.every((c) => c.result === 'passed')).toBe(true)
  })
})

describe('a forger without the signing key', () => {
  it.each([
    ['registered capital', (p: Json) => setPath(p, ['credentialSubject', 'licence', 'fields', 'registeredCapital'], '伍亿元整')],
    ['holder name', (p: Json) => setPath(p, ['credentialSubject', 'holder', 'name'], '冒名顶替有限公司')],
    ['validUntil', (p: Json) => setPath(p, ['validUntil'], '2099-01-01T00:00:00.000Z')],
    ['revocation index', (p: Json) => setPath(p, ['credentialStatus', 0, 'statusListIndex'], '99999')],
    ['one added member', (p: Json) => ({ ...p, note: 'x' })],
  ])('changes the %s in the payload: TOTAL_FAILED/SIG_CRYPTO_FAILURE', async (_, change) => {
    const report = await verify(withPayload(credential, change(structuredClone(payload))))
    expectVerdict(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
    expect(check(report, 'signature')?.result).toBe('failed')
  })

  it('changes the protected header (kid kept, typ changed and back): SIG_CRYPTO_FAILURE', async () => {
    const { raw } = splitJws(credential)
    const reordered = b64json({ kid: header.kid, typ: header.typ, alg: header.alg })
    expect(reordered).not.toBe(raw[0])
    expectVerdict(await verify(`${reordered}.${raw[1]}.${raw[2]}`), 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
  })

  it("signs with its own key under the region's kid: TOTAL_FAILED/SIG_CRYPTO_FAILURE", async () => {
    const report = await verify(await signCompact(header, payload, attacker.privateKey))
    expectVerdict(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
  })

  it('signs with its own key under its own kid: INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND', async () => {
    const report = await verify(await signCompact({ ...header, kid: attackerKid }, payload, attacker.privateKey))
    expectVerdict(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
    expect(check(report, 'signature')?.result).toBe('skipped')
    expect(report.signer).toBeNull()
  })

  it("signs with a look-alike PKI's document signer (same names, other keys): NO_SIGNING_CERTIFICATE_FOUND", async () => {
    const kid = await kidOf(attackerPki['document-signer'].certificate)
    const report = await verify(await signCompact({ ...header, kid }, payload, attackerPki['document-signer'].privateKey!))
    expectVerdict(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
  })
})

describe('alg none and algorithm confusion', () => {
  it('alg none with an empty signature part: TOTAL_FAILED/FORMAT_FAILURE (no signature, not a JWS we accept)', async () => {
    const report = await verify(unsecured({ ...header, alg: 'none' }, payload))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'compact-jws')
    expectSignatureNotAccepted(report)
  })

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s with the original signature kept: TOTAL_FAILED/FORMAT_FAILURE at algorithm-allowed', async (alg) => {
    const report = await verify(unsecured({ ...header, alg }, payload, splitJws(credential).raw[2]))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'algorithm-allowed')
    expect(check(report, 'signature')?.result).toBe('skipped')
  })

  it.each([
    ['SPKI DER', async () => new Uint8Array(await crypto.subtle.exportKey('spki', await t.pki['document-signer'].certificate.publicKey.export()))],
    ['SPKI PEM', async () => new TextEncoder().encode(t.pki['document-signer'].certificate.publicKey.toString('pem'))],
    ['raw uncompressed point', async () => new Uint8Array(await crypto.subtle.exportKey('raw', await t.pki['document-signer'].certificate.publicKey.export()))],
    ['JWKS JSON as served', async () => new TextEncoder().encode(JSON.stringify(await (await t.request('GET', '/v1/jwks')).json()))],
    ['certificate DER', async () => new Uint8Array(t.pki['document-signer'].certificate.rawData)],
  ])("HS256 keyed with the signer's public key (%s): TOTAL_FAILED/FORMAT_FAILURE, the HMAC never computed", async (_, secret) => {
    const report = await verify(await signHs256(header, payload, await secret()))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'algorithm-allowed')
    expect(check(report, 'signature')?.result).toBe('skipped')
    expect(check(report, 'signer-algorithm')?.result).toBe('failed')
  })

  it.each(['EdDSA', 'ES384', 'RS256', 'PS256', 'ES256K', 'es256'])('alg %s over the real signature and kid: TOTAL_FAILED, never verified as ES256', async (alg) => {
    const { raw } = splitJws(credential)
    const report = await verify(`${b64json({ ...header, alg })}.${raw[1]}.${raw[2]}`)
    // EdDSA is in the policy but not this key's algorithm; the rest are outside the policy.
    if (alg === 'EdDSA') expectVerdict(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signer-algorithm')
    else expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'algorithm-allowed')
    expect(check(report, 'signature')?.result).toBe('skipped')
  })

  it('a header without alg: TOTAL_FAILED/FORMAT_FAILURE', async () => {
    const { alg: _alg, ...noAlg } = header
    expectVerdict(await verify(await signAsRegion(noAlg, payload)), 'TOTAL_FAILED', 'FORMAT_FAILURE', 'algorithm-allowed')
  })
})

describe('unknown or malicious kid (signed with the real key, so only the kid is wrong)', () => {
  it.each([
    ['path traversal', '../../etc/passwd'],
    ['SQL injection', "' OR 1=1--"],
    ['10 kB', 'k'.repeat(10 * 1024)],
    ['empty', ''],
    ['NUL', '\u0000'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['the real kid upper-cased', 'UPPER'],
    ['the real kid with a trailing space', 'SPACE'],
    ['a URL', 'https://evil.example/keys#1'],
  ])('kid %s: INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND', async (_, kid) => {
    const value = kid === 'UPPER' ? realKid.toUpperCase() : kid === 'SPACE' ? `${realKid} ` : kid
    const report = await verify(await signAsRegion({ ...header, kid: value }, payload))
    expectVerdict(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
    expect(check(report, 'signature')?.result).toBe('skipped')
    expect(report.signer).toBeNull()
    // The report quotes a bounded prefix, never a 10 kB echo.
    expect(check(report, 'signer-known')!.detail.length).toBeLessThan(200)
  })

  it.each([
    ['a number', 12345],
    ['null', null],
    ['an object', { kid: 'REAL' }],
    ['an array holding the real kid', ['REAL']],
    ['true', true],
  ])('kid that is %s: INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND', async (_, kid) => {
    const value = JSON.parse(JSON.stringify(kid).replace('"REAL"', JSON.stringify(realKid)))
    const report = await verify(await signAsRegion({ ...header, kid: value }, payload))
    expectVerdict(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
    expect(report.signer).toBeNull()
  })

  it('no kid at all: INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND', async () => {
    const { kid: _kid, ...noKid } = header
    expectVerdict(await verify(await signAsRegion(noKid, payload)), 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
  })

  it("the region's own trust-list signer (chains to the root, but is no document signer): NO_SIGNING_CERTIFICATE_FOUND", async () => {
    const entry = t.pki['trust-list-signer']
    const report = await verify(await signCompact({ ...header, kid: await kidOf(entry.certificate) }, payload, entry.privateKey!))
    expectVerdict(report, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
  })

  it('a genuine credential of a region this one does not trust: NO_SIGNING_CERTIFICATE_FOUND', async () => {
    const other = await createTestApp({ regionCode: '440307', regionName: '深圳市龙岗区', publicUrl: 'http://longgang.test' })
    try {
      const foreign = await (await other.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
      expect((await (await other.request('POST', '/v1/verify', { json: { credential: foreign.credential } })).json()).indication).toBe('TOTAL_PASSED')
      expectVerdict(await verify(foreign.credential), 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'signer-known')
    } finally {
      await other.close()
    }
  })
})

describe('headers that try to bring their own trust', () => {
  it("an embedded jwk (the attacker's key, under its own thumbprint as kid): TOTAL_FAILED/FORMAT_FAILURE", async () => {
    const jwk = await exportJWK(attacker.publicKey)
    const report = await verify(await signCompact({ ...header, kid: attackerKid, jwk }, payload, attacker.privateKey))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-embedded-keys')
    expectSignatureNotAccepted(report)
  })

  it("an embedded jwk under the region's kid: TOTAL_FAILED/FORMAT_FAILURE (the jwk is never used)", async () => {
    const report = await verify(await signCompact({ ...header, jwk: await exportJWK(attacker.publicKey) }, payload, attacker.privateKey))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-embedded-keys')
    expect(check(report, 'signature')?.result).toBe('failed')
  })

  it('an x5c chain to an attacker root (same subject names as the region): TOTAL_FAILED/FORMAT_FAILURE', async () => {
    const x5c = [attackerPki['document-signer'], attackerPki['issuing-ca'], attackerPki.root].map((e) => base64Der(e.certificate))
    const kid = await kidOf(attackerPki['document-signer'].certificate)
    const report = await verify(await signCompact({ ...header, kid, x5c }, payload, attackerPki['document-signer'].privateKey!))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-embedded-keys')
    expect(report.signer).toBeNull()
  })

  it.each(['jku', 'x5u'])('%s pointing at a live server: TOTAL_FAILED/FORMAT_FAILURE and the URL is never fetched', async (name) => {
    const report = await verify(await signCompact({ ...header, kid: attackerKid, [name]: `${trapUrl}/${name}.json` }, payload, attacker.privateKey))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-embedded-keys')
    // Give a background fetch, if any, the chance to arrive before afterEach counts.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(trapHits).toEqual([])
  })

  it.each(['x5t', 'x5t#S256'])('%s naming a certificate: TOTAL_FAILED/FORMAT_FAILURE', async (name) => {
    expectVerdict(await verify(await signAsRegion({ ...header, [name]: b64(new Uint8Array(32)) }, payload)), 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-embedded-keys')
  })
})

describe('critical header extensions', () => {
  it.each([
    ['an unknown extension', { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }],
    ['b64 (unencoded payload, RFC 7797)', { crit: ['b64'], b64: false }],
    ['an empty crit list', { crit: [] }],
    ['crit naming a registered header', { crit: ['alg'] }],
    ['crit that is not a list', { crit: 'exp' }],
  ])('%s, signed by the real key: TOTAL_FAILED/FORMAT_FAILURE, the signature not even tried', async (_, extra) => {
    const report = await verify(await signAsRegion({ ...header, ...extra }, payload))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'no-critical-extensions')
    expect(check(report, 'signature')?.result).toBe('skipped')
  })
})

describe('validity in time', () => {
  it('verified at a time after validUntil: TOTAL_FAILED/EXPIRED', async () => {
    const report = await verify(credential, '2046-01-05T00:00:00Z')
    expectVerdict(report, 'TOTAL_FAILED', 'EXPIRED', 'valid-until')
    expect(report.licence?.status).toBe('expired')
  })

  it('verified exactly at validUntil: EXPIRED (the window is half-open)', async () => {
    expectVerdict(await verify(credential, payload.validUntil as string), 'TOTAL_FAILED', 'EXPIRED', 'valid-until')
  })

  it('verified at a time before validFrom: TOTAL_FAILED/NOT_YET_VALID', async () => {
    const report = await verify(credential, '2026-01-04T00:00:00+08:00')
    expectVerdict(report, 'TOTAL_FAILED', 'NOT_YET_VALID', 'valid-from')
    expect(report.licence?.status).toBe('not_yet_valid')
  })

  it('issued with a validity window in the past, verified now: TOTAL_FAILED/EXPIRED', async () => {
    const old = await issue({ validFrom: '2001-01-01', validUntil: '2002-01-01' })
    const report = await verify(old.credential)
    expectVerdict(report, 'TOTAL_FAILED', 'EXPIRED', 'valid-until')
    expect(check(report, 'signature')?.result).toBe('passed')
  })

  it('issued with a validity window in the future, verified now: TOTAL_FAILED/NOT_YET_VALID', async () => {
    const later = await issue({ validFrom: '2090-01-01', validUntil: '2100-01-01' })
    expectVerdict(await verify(later.credential), 'TOTAL_FAILED', 'NOT_YET_VALID', 'valid-from')
  })
})

describe('signing time against the certificates', () => {
  it.each([
    ['before the signer certificate existed', () => Math.floor(Date.parse('2001-01-01T00:00:00Z') / 1000)],
    ['after the signer certificate expires', () => Math.floor(Date.parse('2099-01-01T00:00:00Z') / 1000)],
    ['missing', () => undefined],
    ['not a number', () => '1767225600'],
  ])('iat %s (signed by the real key): INDETERMINATE/OUT_OF_BOUNDS_NO_POE', async (_, iat) => {
    const report = await verify(await signAsRegion(header, { ...payload, iat: iat() }))
    expectVerdict(report, 'INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE', 'certificates-valid-at-signing')
  })

  it('verified after the signer certificate expired, inside the licence window: TOTAL_PASSED (certificates are judged at iat, which the signer itself asserts)', async () => {
    const afterSigner = new Date(t.pki['document-signer'].certificate.notAfter.getTime() + 86_400_000).toISOString()
    expect(afterSigner < (payload.validUntil as string)).toBe(true)
    expect((await verify(credential, afterSigner)).indication).toBe('TOTAL_PASSED')
  })
})

describe('status', () => {
  it('a suspended licence: INDETERMINATE/TRY_LATER at not-suspended', async () => {
    const suspended = await issue()
    expect((await t.request('POST', `/v1/licences/${suspended.id}/suspend`, { json: { reason: '待核查' } })).status).toBe(200)
    const report = await verify(suspended.credential)
    expectVerdict(report, 'INDETERMINATE', 'TRY_LATER', 'not-suspended')
    expect(report.licence?.status).toBe('suspended')
  })

  it('a revoked licence: TOTAL_FAILED/REVOKED at not-revoked', async () => {
    const revoked = await issue()
    expect((await t.request('POST', `/v1/licences/${revoked.id}/revoke`, { json: { reason: '注销' } })).status).toBe(200)
    const report = await verify(revoked.credential)
    expectVerdict(report, 'TOTAL_FAILED', 'REVOKED', 'not-revoked')
    expect(report.licence?.status).toBe('revoked')
  })

  it('suspended and then revoked: REVOKED wins over TRY_LATER', async () => {
    const both = await issue()
    const suspend = await t.request('POST', `/v1/licences/${both.id}/suspend`, { json: { reason: '待核查' } })
    expect(suspend.status, await suspend.clone().text()).toBe(200)
    const revoke = await t.request('POST', `/v1/licences/${both.id}/revoke`, { json: { reason: '核查后注销' } })
    expect(revoke.status, await revoke.clone().text()).toBe(200)
    expectVerdict(await verify(both.credential), 'TOTAL_FAILED', 'REVOKED', 'not-revoked')
  })

  it("credentialStatus pointing at a list that is not the issuer's: INDETERMINATE/TRY_LATER, never fetched", async () => {
    const foreign = structuredClone(payload)
    for (const entry of foreign.credentialStatus as Json[]) {
      entry.statusListCredential = `${trapUrl}/v1/status/${String(entry.statusListCredential).split('/').pop()}`
      entry.id = `${entry.statusListCredential}#${entry.statusListIndex}`
    }
    const report = await verify(await signAsRegion(header, foreign))
    expectVerdict(report, 'INDETERMINATE', 'TRY_LATER', 'status-known')
    expect(check(report, 'signature')?.result).toBe('passed')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(trapHits).toEqual([])
  })

  it.each([
    ['no credentialStatus', (p: Json) => ({ ...p, credentialStatus: undefined })],
    ['only the suspension entry', (p: Json) => ({ ...p, credentialStatus: (p.credentialStatus as Json[]).filter((e) => e.statusPurpose === 'suspension') })],
    ['a look-alike host', (p: Json) => setPath(p, ['credentialStatus', 0, 'statusListCredential'], 'http://tongban.test.evil.example/v1/status/r1')],
    ['a path that climbs out', (p: Json) => setPath(p, ['credentialStatus', 0, 'statusListCredential'], 'http://tongban.test/v1/status/../../v1/status/r1')],
    ['an index beyond the list', (p: Json) => setPath(p, ['credentialStatus', 0, 'statusListIndex'], '999999999')],
  ])('%s (signed by the real key): INDETERMINATE/TRY_LATER', async (_, change) => {
    const report = await verify(await signAsRegion(header, change(structuredClone(payload))))
    expectVerdict(report, 'INDETERMINATE', 'TRY_LATER', 'status-known')
  })
})

describe('malformed input: TOTAL_FAILED/FORMAT_FAILURE at compact-jws', () => {
  const cases: Array<[string, () => string]> = [
    ['truncated by one character (signature no longer base64url)', () => credential.slice(0, -1)],
    ['truncated at the last dot', () => credential.slice(0, credential.lastIndexOf('.') + 1)],
    ['truncated inside the payload (2 parts)', () => credential.slice(0, credential.lastIndexOf('.') - 5)],
    ['truncated inside the header (1 part)', () => credential.slice(0, 10)],
    ['not a JWS at all', () => '这不是证照'],
    ['a URL', () => 'https://tongban.test/v1/licences/1'],
    ['whitespace only', () => '   '],
    ['two parts', () => credential.split('.').slice(0, 2).join('.')],
    ['four parts', () => `${credential}.${b64('extra')}`],
    ['five parts (JWE shaped)', () => `${credential}.AAAA.BBBB`],
    ['standard base64 "+" in the header', () => `${splitJws(credential).raw[0]}+.${splitJws(credential).raw[1]}.${splitJws(credential).raw[2]}`],
    ['standard base64 "/" in the signature', () => `${credential.slice(0, -2)}/A`],
    ['padding "=" after the payload', () => credential.replace(/\.([^.]+)\./, '.$1==.')],
    ['a space inside the payload', () => credential.replace(/\.(.{10})/, '.$1 ')],
    ['a non-canonical last character of the signature (same bytes, other spelling)', () => nonCanonical(credential)],
    ['a header that is not JSON', () => `${b64('{alg:ES256}')}.${splitJws(credential).raw[1]}.${splitJws(credential).raw[2]}`],
    ['a header that is not UTF-8', () => `${b64(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))}.${splitJws(credential).raw[1]}.${splitJws(credential).raw[2]}`],
    ['a header that is JSON but an array', () => `${b64json(['ES256'])}.${splitJws(credential).raw[1]}.${splitJws(credential).raw[2]}`],
  ]
  it.each(cases)('%s', async (_, make) => {
    const report = await verify(make())
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'compact-jws')
    expect(report.checks.filter((c) => c.name !== 'compact-jws').every((c) => c.result === 'skipped')).toBe(true)
    expect(report.licence).toBeNull()
  })

  it.each([
    ['an array', []],
    ['a string', 'a licence'],
    ['a number', 42],
    ['null', null],
    ['true', true],
  ])('a payload that is JSON but %s, validly signed by the real key', async (_, value) => {
    const jws = await signCompact(header, JSON.stringify(value), documentSignerKey)
    expectVerdict(await verify(jws), 'TOTAL_FAILED', 'FORMAT_FAILURE', 'compact-jws')
  })

  it('truncated by two characters (63 signature bytes): TOTAL_FAILED/SIG_CRYPTO_FAILURE', async () => {
    const truncated = credential.slice(0, -2)
    expect(splitJws(truncated).signature).toHaveLength(63)
    expectVerdict(await verify(truncated), 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
  })

  it('a DER-encoded ECDSA signature in place of r‖s: TOTAL_FAILED/SIG_CRYPTO_FAILURE', async () => {
    const { r, s } = rs(splitJws(credential).signature)
    const int = (v: bigint) => {
      let hex = v.toString(16)
      if (hex.length % 2) hex = `0${hex}`
      if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`
      return [0x02, hex.length / 2, ...hex.match(/../g)!.map((h) => parseInt(h, 16))]
    }
    const body = [...int(r), ...int(s)]
    expectVerdict(await verify(withSignature(credential, new Uint8Array([0x30, body.length, ...body]))), 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
  })
})

describe('ECDSA signature values outside [1, n-1] (CVE-2022-21449 and kin)', () => {
  const n = P256_ORDER
  const cases: Array<[string, (r: bigint, s: bigint) => [bigint, bigint]]> = [
    ['r = s = 0 (all-zero signature)', () => [0n, 0n]],
    ['r = 0', (_, s) => [0n, s]],
    ['s = 0', (r) => [r, 0n]],
    ['r = s = n', () => [n, n]],
    ['r = n', (_, s) => [n, s]],
    ['s = n', (r) => [r, n]],
    ['r = n + 1', (_, s) => [n + 1n, s]],
    ['s = n + 1', (r) => [r, n + 1n]],
    ['r = 2^256 - 1', (_, s) => [(1n << 256n) - 1n, s]],
    ['s = 2^256 - 1', (r) => [r, (1n << 256n) - 1n]],
    ['r = s = 1', () => [1n, 1n]],
    ['r + n and s + n (mod 2^256 where they overflow)', (r, s) => [(r + n) % (1n << 256n), (s + n) % (1n << 256n)]],
  ]
  it.each(cases)('%s: TOTAL_FAILED/SIG_CRYPTO_FAILURE', async (_, make) => {
    const { r, s } = rs(splitJws(credential).signature)
    const report = await verify(withSignature(credential, p1363(...make(r, s))))
    expectVerdict(report, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', 'signature')
  })

  it('(r, n - s) still verifies: ECDSA signatures are malleable, so a credential is identified by its id, never by its signature bytes', async () => {
    const { r, s } = rs(splitJws(credential).signature)
    const twin = withSignature(credential, p1363(r, n - s))
    expect(twin).not.toBe(credential)
    const report = await verify(twin)
    expect(report.indication).toBe('TOTAL_PASSED')
    expect(report.licence?.id).toBe(licence.id)
  })
})

describe('a valid signature over the wrong thing', () => {
  it('a payload that is another kind of credential: TOTAL_FAILED/FORMAT_FAILURE at licence-credential', async () => {
    const report = await verify(await signAsRegion(header, { ...payload, type: ['VerifiableCredential', 'EmployeeBadgeCredential'] }))
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'licence-credential')
    expect(check(report, 'signature')?.result).toBe('passed')
    expect(report.licence).toBeNull()
  })

  it("the region's own status list credential (same signer, same typ): TOTAL_FAILED/FORMAT_FAILURE at licence-credential", async () => {
    const listUrl = (payload.credentialStatus as Json[])[0]!.statusListCredential as string
    const response = await t.request('GET', new URL(listUrl).pathname)
    expect(response.status).toBe(200)
    const statusList = await response.text()
    expect(splitJws(statusList).header.kid).toBe(realKid)
    const report = await verify(statusList)
    expectVerdict(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'licence-credential')
    expect(check(report, 'signature')?.result).toBe('passed')
  })

  it.each([
    ['no @context', (p: Json) => ({ ...p, '@context': undefined })],
    ['a VC 1.1 context', (p: Json) => ({ ...p, '@context': ['https://www.w3.org/2018/credentials/v1'] })],
    ['no credentialSubject', (p: Json) => ({ ...p, credentialSubject: undefined })],
    ['validUntil that is not a date', (p: Json) => ({ ...p, validUntil: 'forever' })],
  ])('a licence credential with %s: TOTAL_FAILED/FORMAT_FAILURE at licence-credential', async (_, change) => {
    expectVerdict(await verify(await signAsRegion(header, change(structuredClone(payload)))), 'TOTAL_FAILED', 'FORMAT_FAILURE', 'licence-credential')
  })

  it.each([
    ['JWT', 'JWT'],
    ['application/vc+jwt', 'application/vc+jwt'],
    ['absent', undefined],
  ])('typ %s: TOTAL_FAILED/FORMAT_FAILURE at media-type', async (_, typ) => {
    expectVerdict(await verify(await signAsRegion({ ...header, typ }, payload)), 'TOTAL_FAILED', 'FORMAT_FAILURE', 'media-type')
  })

  it("issuer.regionCode of another region, signed by this region's signer: INDETERMINATE/SIG_CONSTRAINTS_FAILURE", async () => {
    const claimed = structuredClone(payload)
    Object.assign(claimed.issuer as Json, { regionCode: '440307', regionName: '深圳市龙岗区' })
    const report = await verify(await signAsRegion(header, claimed))
    expectVerdict(report, 'INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE', 'issuer-is-signer-region')
    expect(check(report, 'signature')?.result).toBe('passed')
  })
})

describe('the HTTP edge', () => {
  const problem = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const body = (await response.json()) as { code: string; status: number; detail: string }
    expect(body).toMatchObject({ code, status })
    expect(body.detail.length).toBeGreaterThan(0)
    return body
  }

  it.each([
    ['an empty object', {}],
    ['a credential that is a number', { credential: 5 }],
    ['an empty credential', { credential: '' }],
    ['both credential and qr', { credential: 'a.b.c', qr: 'x' }],
    ['an unknown member', { credential: 'a.b.c', trustThisKey: 'yes' }],
    ['at that is not a date-time', { credential: 'a.b.c', at: 'yesterday' }],
    ['a credential longer than 64 KiB', { credential: 'a'.repeat(65_537) }],
    ['a JSON array', ['eyJhbGciOiJFUzI1NiJ9.e30.AAAA']],
    ['a JSON string', 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA'],
    ['JSON null', null],
  ])('a body that is not a verify request (%s): 400 invalid_request', async (_, json) => {
    await problem(await t.request('POST', '/v1/verify', { json, token: null }), 400, 'invalid_request')
  })

  it.each([
    ['truncated JSON', '{"credential": "a.b'],
    ['a bare JWS', 'eyJhbGciOiJub25lIn0.e30.'],
    ['trailing garbage', '{"credential":"a.b.c"} x'],
  ])('a body that is not JSON (%s): 400 malformed_json', async (_, body) => {
    await problem(await t.request('POST', '/v1/verify', { body, headers: { 'content-type': 'application/json' }, token: null }), 400, 'malformed_json')
  })

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['application/jwt', 'application/jwt'],
    ['no Content-Type', undefined],
  ])('a body sent as %s: 415 unsupported_media_type', async (_, type) => {
    const response = await t.app.request('/v1/verify', {
      method: 'POST',
      // Bytes, so that fetch adds no Content-Type of its own.
      body: new TextEncoder().encode(JSON.stringify({ credential })),
      headers: type ? { 'content-type': type } : {},
    })
    await problem(response, 415, 'unsupported_media_type')
  })

  it('a credential that fails every check is still a 200 report, never a 4xx or 5xx', async () => {
    const report = await verify('x')
    expect(report.indication).toBe('TOTAL_FAILED')
    expect(t.logged).toEqual([])
  })
})

function setPath(target: Json, path: Array<string | number>, value: unknown): Json {
  let node: any = target
  for (const key of path.slice(0, -1)) node = node[key]
  node[path.at(-1)!] = value
  return target
}

/** The same signature bytes spelled with different unused low bits in the last base64url character. */
function nonCanonical(jws: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = jws.at(-1)!
  // 64 bytes take 86 characters; the last one carries 2 bits and 4 unused ones.
  const twin = alphabet[alphabet.indexOf(last) ^ 1]!
  return `${jws.slice(0, -1)}${twin}`
}
