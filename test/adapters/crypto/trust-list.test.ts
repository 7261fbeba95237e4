import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kidOf } from '../../../src/adapters/crypto/jws-signer'
import type { PkiEntry, RegionPki } from '../../../src/adapters/crypto/pki'
import { TRUST_LIST_TYP, TrustListError, verifyTrustList, type TrustList } from '../../../src/adapters/crypto/trust-list'
import { base64Der } from '../../../src/adapters/crypto/x509'
import { createTestApp, type TestApp } from '../../support/app'
import { signCompact, splitJws, withPayload } from '../../support/jws-forge'

/**
 * A partner's view of GET /v1/trust-list: it pins the root fingerprint it was told out of band
 * (here read from /.well-known/tongban, as two bureaus would read it aloud) and accepts the list
 * only when it is signed under that root by the trust-list signer it lists, unaltered, in time.
 */

let gz: TestApp
let lg: TestApp
let jws: string
let pin: string

async function published(t: TestApp) {
  const response = await t.request('GET', '/v1/trust-list', { token: null })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^application\/jwt/)
  const descriptor = (await (await t.request('GET', '/.well-known/tongban', { token: null })).json()) as { root: { sha256: string } }
  return { jws: await response.text(), pin: descriptor.root.sha256 }
}

/** Re-signs a trust list as `signer`, with the x5c chain given: what an attacker holding some key could publish. */
async function resign(list: TrustList, signer: PkiEntry, chain: PkiEntry[]): Promise<string> {
  const header = { typ: TRUST_LIST_TYP, alg: 'ES256', kid: await kidOf(signer.certificate), x5c: chain.map((e) => base64Der(e.certificate)) }
  return signCompact(header, list, signer.privateKey!)
}

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TrustListError)
  return (error as Error).message
}

beforeAll(async () => {
  gz = await createTestApp()
  lg = await createTestApp({ regionCode: '440307', regionName: '深圳市龙岗区', publicUrl: 'http://longgang.test' })
  ;({ jws, pin } = await published(gz))
}, 120_000)

afterAll(async () => {
  await gz?.close()
  await lg?.close()
})

describe('verifyTrustList on the published list', () => {
  it('accepts it under the root fingerprint of /.well-known/tongban, and it lists the signer of our credentials', async () => {
    const list = await verifyTrustList(jws, pin, new Date())
    expect(list).toMatchObject({ format: 'tongban-trust-list/1', region: { code: '360700', name: '赣州市' } })
    expect(list.sequence).toBeGreaterThanOrEqual(1)
    const jwks = (await (await gz.request('GET', '/v1/jwks', { token: null })).json()) as { keys: Array<{ kid: string }> }
    expect(list.certificates.find((c) => c.role === 'document-signer')?.kid).toBe(jwks.keys[0]!.kid)
    expect(list.certificates.find((c) => c.role === 'root')?.sha256).toBe(pin)
  })

  it('accepts the pin in upper case (fingerprints are read aloud, not typed carefully)', async () => {
    await expect(verifyTrustList(jws, pin.toUpperCase(), new Date())).resolves.toBeTruthy()
  })

  it('refuses it for a wrong pin', async () => {
    expect(await refusal(verifyTrustList(jws, 'ab'.repeat(32), new Date()))).toMatch(/pinned root/)
  })

  it('refuses it for the pin of another region', async () => {
    expect(await refusal(verifyTrustList(jws, (await published(lg)).pin, new Date()))).toMatch(/pinned root/)
  })

  it('refuses a tampered payload (sequence raised, signature kept)', async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const tampered = withPayload(jws, { ...list, sequence: list.sequence + 1000 })
    expect(await refusal(verifyTrustList(tampered, pin, new Date()))).toMatch(/signature does not verify/)
  })

  it('refuses a tampered payload that adds an attacker document signer', async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const extra = { ...list.certificates.find((c) => c.role === 'document-signer')!, kid: 'attacker' }
    expect(await refusal(verifyTrustList(withPayload(jws, { ...list, certificates: [...list.certificates, extra] }), pin, new Date()))).toMatch(/signature/)
  })

  it('refuses it after its validUntil (at), and accepts it just before', async () => {
    const { validUntil } = splitJws(jws).payload as unknown as TrustList
    const end = new Date(validUntil)
    await expect(verifyTrustList(jws, pin, new Date(end.getTime() - 1000))).resolves.toBeTruthy()
    expect(await refusal(verifyTrustList(jws, pin, new Date(end.getTime() + 1000)))).toMatch(/expired/)
  })

  it('refuses a list published 30 days ago (a clock in the past), verified now', async () => {
    const past = new Date(Date.now() - 30 * 86_400_000)
    const old = await createTestApp({ pki: gz.pki, clock: { now: () => past } })
    try {
      const stale = await published(old)
      expect(stale.pin).toBe(pin)
      expect(await refusal(verifyTrustList(stale.jws, pin, new Date()))).toMatch(/expired/)
    } finally {
      await old.close()
    }
  }, 120_000)

  it('refuses it far beyond the certificates’ validity', async () => {
    await expect(verifyTrustList(jws, pin, new Date('2099-01-01T00:00:00Z'))).rejects.toBeInstanceOf(TrustListError)
  })
})

describe('lists signed by the wrong key', () => {
  it("another region's genuine list, checked against this region's pin", async () => {
    expect(await refusal(verifyTrustList((await published(lg)).jws, pin, new Date()))).toMatch(/pinned root/)
  })

  it("this region's list content, re-signed by another region's trust-list signer with its own chain", async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const forged = await resign(list, lg.pki['trust-list-signer'], [lg.pki['trust-list-signer'], lg.pki['issuing-ca'], lg.pki.root])
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/pinned root/)
  })

  it("re-signed by another region's key with this region's pinned root merely appended to x5c", async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const forged = await resign(list, lg.pki['trust-list-signer'], [lg.pki['trust-list-signer'], lg.pki['issuing-ca'], gz.pki.root])
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/does not chain/)
  })

  it("re-signed by this region's document signer (under the pinned root, but not the trust-list signer)", async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const pkiOf = (p: RegionPki) => [p['document-signer'], p['issuing-ca'], p.root]
    const forged = await resign(list, gz.pki['document-signer'], pkiOf(gz.pki))
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/not signed by the trust-list signer it lists/)
  })

  it('a list whose header carries no chain', async () => {
    const list = splitJws(jws).payload as unknown as TrustList
    const forged = await resign(list, gz.pki['trust-list-signer'], [gz.pki['trust-list-signer']])
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/x5c/)
  })

  it('a list whose signer is genuine but that names a second root (a stolen trust-list key bringing its own)', async () => {
    const { header, payload } = splitJws(jws)
    const other = (await (await import('../../support/app')).testPki('440307', '深圳市龙岗区')).root.certificate
    const extra = { role: 'root', subject: other.subject, sha256: 'f'.repeat(64), notBefore: '', notAfter: '', certificate: Buffer.from(other.rawData).toString('base64') }
    const forged = await signCompact(header, { ...payload, certificates: [...(payload.certificates as unknown[]), extra] }, gz.pki['trust-list-signer'].privateKey!)
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/root other than the pinned/)
  })

  it('a credential (typ vc+jwt) offered as a trust list', async () => {
    const header = { ...splitJws(jws).header, typ: 'vc+jwt' }
    const forged = await signCompact(header, splitJws(jws).payload, gz.pki['trust-list-signer'].privateKey!)
    expect(await refusal(verifyTrustList(forged, pin, new Date()))).toMatch(/typed/)
  })

  it.each([
    ['not base64', ['!!!', 'xx']],
    ['not strings', [1, 2]],
    ['not DER', ['AAAA', 'AAAA']],
  ])('an x5c that is %s is refused as a TrustListError', async (_, x5c) => {
    const forged = await signCompact({ alg: 'ES256', typ: TRUST_LIST_TYP, x5c }, splitJws(jws).payload, gz.pki['trust-list-signer'].privateKey!)
    await refusal(verifyTrustList(forged, pin, new Date()))
  })
})
