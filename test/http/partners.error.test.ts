import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signTrustList, type TrustList } from '../../src/adapters/crypto/trust-list'
import { withUsccCheck } from '../../src/core/licence/uscc'
import { businessLicenceRequest } from '../support/fixtures'
import { createPartnerPair, registerBoth, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
let current: TrustList
let credential: string

beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  const jws = await pair.lg.deps.publication.trustList()
  current = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as TrustList
  credential = ((await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: withUsccCheck('91440307MA5G00003'), name: '龙岗甲公司' } }) })).json()) as { credential: string }).credential
})
afterAll(() => pair.close())

async function refreshWith(list: string | ((text: string) => string)) {
  pair.override('lg.test', '/v1/trust-list', async () => {
    const text = typeof list === 'string' ? list : list(await pair.lg.deps.publication.trustList())
    return new Response(text, { status: 200, headers: { 'content-type': 'application/jwt' } })
  })
  try {
    const response = await pair.gz.request('POST', '/v1/admin/partners/440307/refresh')
    return { status: response.status, body: (await response.json()) as { code?: string; detail?: string } }
  } finally {
    pair.override('lg.test', '/v1/trust-list', undefined)
  }
}

async function stillTrusted() {
  const { partners } = (await (await pair.gz.request('GET', '/v1/admin/partners')).json()) as { partners: Array<{ trustList: { sequence: number }; lastProblem: string | null }> }
  const report = (await (await pair.gz.request('POST', '/v1/verify', { json: { credential } })).json()) as { indication: string }
  return { sequence: partners[0]!.trustList.sequence, lastProblem: partners[0]!.lastProblem, indication: report.indication }
}

describe('a refused trust list never replaces the good one, and the refusal is visible', () => {
  it.each([
    ['an older sequence', () => signTrustList(pair.lg.pki, { ...current, sequence: 0 }), 'older'],
    ['the same sequence with other content', () => signTrustList(pair.lg.pki, { ...current, region: { ...current.region, name: '篡改区' } }), 'other content'],
    ['an expired list', () => signTrustList(pair.lg.pki, { ...current, sequence: 9, issuedAt: '2020-01-01T00:00:00Z', validUntil: '2020-01-08T00:00:00Z' }), 'expired'],
    ['a list signed under another root', () => signTrustList(pair.gz.pki, { ...current, sequence: 10 }), 'pinned root'],
  ])('%s', async (_name, make, problem) => {
    const { status, body } = await refreshWith(await make())
    expect(status).toBe(422)
    expect(body.code).toBe('invalid_trust_list')
    expect(body.detail).toContain(problem)
    const after = await stillTrusted()
    expect(after).toMatchObject({ sequence: 1, indication: 'TOTAL_PASSED' })
    expect(after.lastProblem).toContain(problem)
  })

  it('a badly signed list', async () => {
    const { status, body } = await refreshWith((jws) => `${jws.slice(0, -4)}${jws.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`)
    expect([status, body.code]).toEqual([422, 'invalid_trust_list'])
    expect((await stillTrusted()).indication).toBe('TOTAL_PASSED')
  })

  it('a partner that cannot be reached: 502 partner_unreachable, the good list kept', async () => {
    pair.setDown('lg.test', true)
    try {
      const response = await pair.gz.request('POST', '/v1/admin/partners/440307/refresh')
      expect(response.status).toBe(502)
      expect(((await response.json()) as { code: string }).code).toBe('partner_unreachable')
    } finally {
      pair.setDown('lg.test', false)
    }
    expect((await stillTrusted()).lastProblem).toContain('could not be fetched')
  })

  it('a newer list signed under the pin replaces the old one and clears the problem', async () => {
    const { status } = await refreshWith(await signTrustList(pair.lg.pki, { ...current, sequence: 2, issuedAt: new Date().toISOString() }))
    expect(status).toBe(200)
    expect(await stillTrusted()).toEqual({ sequence: 2, lastProblem: null, indication: 'TOTAL_PASSED' })
  })
})

describe('registering a partner refuses', () => {
  const register = (json: unknown) => pair.gz.request('POST', '/v1/admin/partners', { json })
  const pin = () => pair.lg.deps.publication.rootFingerprint

  it('a wrong pin (422 invalid_trust_list), storing nothing', async () => {
    const other = await createPartnerPair()
    try {
      const response = await other.gz.request('POST', '/v1/admin/partners', { json: { descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: pair.gz.deps.publication.rootFingerprint } })
      expect(response.status).toBe(422)
      expect(((await response.json()) as { code: string }).code).toBe('invalid_trust_list')
      expect(((await (await other.gz.request('GET', '/v1/admin/partners')).json()) as { partners: unknown[] }).partners).toEqual([])
    } finally {
      await other.close()
    }
  })

  it('another pin for a region already registered (409 partner_pin_conflict)', async () => {
    const response = await register({ descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: 'ab'.repeat(32) })
    expect(response.status).toBe(409)
    expect(((await response.json()) as { code: string }).code).toBe('partner_pin_conflict')
  })

  it('this region itself (422 partner_is_self)', async () => {
    const response = await register({ descriptorUrl: 'http://gz.test/.well-known/tongban', rootFingerprint: pair.gz.deps.publication.rootFingerprint })
    expect(((await response.json()) as { code: string }).code).toBe('partner_is_self')
  })

  it('a descriptor that is not one (502 invalid_partner_descriptor), an unreachable host (502 partner_unreachable), a bad fingerprint (400)', async () => {
    pair.override('lg.test', '/.well-known/tongban', async () => new Response('{"region": {}}', { status: 200 }))
    try {
      expect(((await (await register({ descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: pin() })).json()) as { code: string }).code).toBe('invalid_partner_descriptor')
    } finally {
      pair.override('lg.test', '/.well-known/tongban', undefined)
    }
    expect(((await (await register({ descriptorUrl: 'http://nowhere.test/.well-known/tongban', rootFingerprint: pin() })).json()) as { code: string }).code).toBe('partner_unreachable')
    const bad = await register({ descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: 'not-hex' })
    expect(bad.status).toBe(400)
  })

  it('without the admin token (401)', async () => {
    expect((await pair.gz.request('POST', '/v1/admin/partners', { json: { descriptorUrl: 'http://lg.test/.well-known/tongban', rootFingerprint: pin() }, token: 'wrong-token-wrong-token' })).status).toBe(401)
    expect((await pair.gz.request('GET', '/v1/admin/partners', { token: null })).status).toBe(401)
  })
})
