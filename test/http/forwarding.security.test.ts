import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createJwsSigner } from '../../src/adapters/crypto/jws-signer'
import { b64json, splitJws } from '../support/jws-forge'
import { gzForward, lgHolds, sendToLonggang } from '../support/forwarding'
import { createAgreedPair, createPartnerPair, registerBoth, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
})
afterAll(() => pair.close())

/** Sends the forward and expects it refused with this code, with nothing stored at 龙岗. */
async function refused(body: unknown, status: number, code: string) {
  const before = await lgHolds(pair)
  const answer = await sendToLonggang(pair, body)
  const problem = answer.json<{ code: string; detail: string }>()
  expect({ status: answer.status, code: problem.code }).toEqual({ status, code })
  expect(await lgHolds(pair)).toEqual(before)
  return problem
}

describe('the identity check of a forwarded application', () => {
  it('is accepted when it is 赣州’s, for 龙岗, about this application and applicant (the baseline)', async () => {
    expect((await sendToLonggang(pair, await gzForward(pair))).status).toBe(201)
  })

  it('must be signed by an attestation-signer key, not 赣州’s partner-auth key', async () => {
    const problem = await refused(await gzForward(pair, { signer: await createJwsSigner(pair.gz.pki['partner-auth']) }), 422, 'invalid_identity_check')
    expect(problem.detail).toContain('attestation-signer')
  })

  it('must be the calling region’s: 龙岗’s own attestation key does not vouch for 赣州’s window', async () => {
    await refused(await gzForward(pair, { signer: await createJwsSigner(pair.lg.pki['attestation-signer']) }), 422, 'invalid_identity_check')
  })

  it('must verify: a changed payload under the original signature is refused', async () => {
    const body = await gzForward(pair)
    const { raw, payload } = splitJws(body.identityCheck)
    const forged = [raw[0], b64json({ ...payload, method: 'video' }), raw[2]].join('.')
    expect((await refused({ ...body, identityCheck: forged }, 422, 'invalid_identity_check')).detail).toContain('does not verify')
    await refused({ ...body, identityCheck: 'not a jws' }, 422, 'invalid_identity_check')
  })

  it('must have its own typ: another statement by the same key (a receipt, an event) is not an identity check', async () => {
    await refused(await gzForward(pair, { typ: 'tongban-receipt+jwt' }), 422, 'invalid_identity_check')
    await refused(await gzForward(pair, { typ: 'tongban-event+jwt' }), 422, 'invalid_identity_check')
  })

  it('cannot be moved: not to another application, another applicant, another audience or another issuer', async () => {
    const earlier = await gzForward(pair)
    const later = await gzForward(pair)
    // The statement of one application replayed with another.
    expect((await refused({ ...later, identityCheck: earlier.identityCheck }, 422, 'invalid_identity_check')).detail).toContain('another application')
    // The same application, but its applicant swapped after the check.
    const swapped = { ...earlier, application: { ...earlier.application, applicant: { kind: 'person', idNumber: '11010519491231002X', name: '赵六' } } }
    expect((await refused(swapped, 422, 'invalid_identity_check')).detail).toContain('another applicant')
    expect((await refused(await gzForward(pair, { claims: { aud: '110105' } }), 422, 'invalid_identity_check')).detail).toContain('addressed to 110105')
    expect((await refused(await gzForward(pair, { claims: { region: { code: '110105', name: '朝阳区' } } }), 422, 'invalid_identity_check')).detail).toContain("not 360700's statement")
  })
})

describe('the door in front of POST /v1/partner/applications', () => {
  it('refuses an unsigned request (401) and stores nothing', async () => {
    const before = await lgHolds(pair)
    const answer = await pair.lg.app.request('/v1/partner/applications', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await gzForward(pair)) })
    expect(answer.status).toBe(401)
    expect(await lgHolds(pair)).toEqual(before)
  })

  it('refuses a caller with no agreement in force (403 no_active_agreement), even with a valid identity check', async () => {
    const strangers = await createPartnerPair()
    try {
      await registerBoth(strangers)
      const answer = await strangers.gz.deps.partners.client.call('440307', { method: 'POST', path: '/v1/partner/applications', body: await gzForward(strangers) })
      expect(answer.status).toBe(403)
      expect(answer.json<{ code: string }>().code).toBe('no_active_agreement')
      expect(await lgHolds(strangers)).toEqual({ applications: 0, events: 0 })
    } finally {
      await strangers.close()
    }
  })
})
