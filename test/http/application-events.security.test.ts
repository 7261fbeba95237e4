import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signResponse } from '../../src/adapters/crypto/http-signatures'
import { createJwsSigner } from '../../src/adapters/crypto/jws-signer'
import { APPLICATION_EVENT_TYP } from '../../src/core/application/application-events'
import type { JwsSigner } from '../../src/core/ports'
import { establishmentForLonggang, uploadAttachments } from '../support/applications'
import { forwardedToLonggang, lgApproves, messagesAbout, viewAt } from '../support/cross-region'
import { businessLicenceRequest, testUscc } from '../support/fixtures'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
let lgAttestation: JwsSigner
beforeAll(async () => {
  // Partner status lists are fetched afresh for every verification: a revocation is seen at once.
  pair = await createAgreedPair({ partnerStatusMaxAgeMs: 0 })
  lgAttestation = await createJwsSigner(pair.lg.pki['attestation-signer'])
  await uploadAttachments(pair.gz, establishmentForLonggang().attachments)
})
afterAll(() => pair.close())

/** 龙岗 sends 赣州 an event it made by hand: signed by `signer`, with claims changed as the test needs. */
async function lgSendsEvent(id: string, options: { claims?: Record<string, unknown>; event?: Record<string, unknown>; typ?: string; signer?: JwsSigner } = {}) {
  const statement = await (options.signer ?? lgAttestation).sign(
    {
      iss: 'http://lg.test',
      region: { code: '440307', name: '深圳市龙岗区' },
      aud: '360700',
      jti: crypto.randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      applicationId: id,
      event: { sequence: 2, action: 'accept', from: 'received', to: 'accepted', actor: 'lg-staff', reason: null, detail: {}, at: new Date().toISOString(), ...options.event },
      ...options.claims,
    },
    { typ: options.typ ?? APPLICATION_EVENT_TYP },
  )
  return pair.lg.deps.partners.client.call('360700', { method: 'POST', path: '/v1/partner/events', body: { event: statement } })
}

const gzTimeline = async (id: string) => (await pair.gz.db.query<{ sequence: number; to_status: string }>('SELECT sequence, to_status FROM application_events WHERE application_id = $1 ORDER BY sequence', [id]))

describe('POST /v1/partner/events refuses what is not the handling region’s own statement about its own step', () => {
  it.each([
    ['signed by 赣州’s own attestation key', async () => ({ signer: await createJwsSigner(pair.gz.pki['attestation-signer']) })],
    ['signed by 龙岗’s document signer, not its attestation key', async () => ({ signer: await createJwsSigner(pair.lg.pki['document-signer']) })],
    ['of another typ (an identity check)', async () => ({ typ: 'tongban-identity-check+jwt' })],
    ['naming another region as its author', async () => ({ claims: { region: { code: '360700', name: '赣州市' } } })],
    ['addressed to another region', async () => ({ claims: { aud: '440307' } })],
    ['claiming to be the first step, which 赣州 took itself', async () => ({ event: { sequence: 1, action: 'submit', from: null, to: 'received' } })],
    ['with an unknown action', async () => ({ event: { action: 'annul' } })],
    ['with an unknown status', async () => ({ event: { to: 'licensed' } })],
  ])('refuses an event %s (422 invalid_event), and 赣州 keeps its timeline', async (_, options) => {
    const { id } = await forwardedToLonggang(pair)
    const answer = await lgSendsEvent(id, await options())
    expect(answer.status).toBe(422)
    expect(answer.json()).toMatchObject({ code: 'invalid_event' })
    expect(await gzTimeline(id)).toEqual([{ sequence: 1, to_status: 'received' }])
  })

  it('refuses a changed statement: its signature no longer verifies', async () => {
    const { id } = await forwardedToLonggang(pair)
    const statement = await lgAttestation.sign({ iss: 'http://lg.test', region: { code: '440307' }, aud: '360700', applicationId: id, event: { sequence: 2, action: 'accept', from: 'received', to: 'accepted', actor: 'x', reason: null, detail: {}, at: new Date().toISOString() } }, { typ: APPLICATION_EVENT_TYP })
    const [header, payload, signature] = statement.split('.')
    const changed = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    changed.event.to = 'approved'
    const forged = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`
    const answer = await pair.lg.deps.partners.client.call('360700', { method: 'POST', path: '/v1/partner/events', body: { event: forged } })
    expect(answer.status).toBe(422)
    expect(answer.json()).toMatchObject({ code: 'invalid_event', detail: expect.stringContaining('signature') })
    expect(await gzTimeline(id)).toEqual([{ sequence: 1, to_status: 'received' }])
  })

  it('answers 404 for an application 赣州 handles itself or never forwarded, revealing nothing', async () => {
    const own = await (await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang({ handlingRegion: undefined }) })).json()
    for (const id of [own.id, crypto.randomUUID()]) {
      const answer = await lgSendsEvent(id)
      expect(answer.status).toBe(404)
      expect(answer.json()).toMatchObject({ code: 'application_not_found' })
    }
    expect(await gzTimeline(own.id)).toEqual([{ sequence: 1, to_status: 'received' }])
  })

  it('refuses a second, different statement for a step it holds (409 event_conflict)', async () => {
    const { id } = await forwardedToLonggang(pair)
    expect((await lgSendsEvent(id)).status).toBe(200)
    const other = await lgSendsEvent(id, { event: { action: 'reject', to: 'rejected', reason: '材料不全' } })
    expect(other.status).toBe(409)
    expect(other.json()).toMatchObject({ code: 'event_conflict' })
    expect(await gzTimeline(id)).toEqual([
      { sequence: 1, to_status: 'received' },
      { sequence: 2, to_status: 'accepted' },
    ])
    expect((await viewAt(pair.gz, id)).status).toBe('accepted')
  })

  it('is behind the partner door: an unsigned request is refused', async () => {
    const { id } = await forwardedToLonggang(pair)
    const answer = await pair.gz.request('POST', '/v1/partner/events', { json: { event: 'a.b.c' }, token: null })
    expect(answer.status).toBe(401)
    expect(await gzTimeline(id)).toHaveLength(1)
  })
})

describe('GET /v1/partner/licences/{id}/{pdf,credential} hands over only what was issued for the caller’s own application', () => {
  it('refuses a licence 龙岗 issued at its own window, and one that does not exist, as not found', async () => {
    const issued = await (await pair.lg.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { kind: 'enterprise', uscc: testUscc(450), name: '龙岗本地有限公司' } }) })).json()
    for (const id of [issued.id, crypto.randomUUID(), 'not-a-uuid']) {
      for (const what of ['pdf', 'credential']) {
        const answer = await pair.gz.deps.partners.client.call('440307', { method: 'GET', path: `/v1/partner/licences/${id}/${what}` })
        expect(answer.status, `${id} ${what}`).toBe(404)
        expect(answer.json()).toMatchObject({ code: 'licence_not_found' })
      }
    }
  })

  it('refuses a caller that is not a partner: an unsigned request', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { licence } = await lgApproves(pair, id, 451)
    const answer = await pair.lg.request('GET', `/v1/partner/licences/${licence.id}/pdf`, { token: null })
    expect(answer.status).toBe(401)
  })
})

describe('赣州 hands over nothing it has not verified', () => {
  it('fails the collection when 龙岗 answers with the PDF of another licence', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { licence } = await lgApproves(pair, id, 452)
    const other = await forwardedToLonggang(pair)
    const { licence: otherLicence } = await lgApproves(pair, other.id, 453)
    await pair.lg.outbox.drain()
    // 龙岗 answers with the other licence's PDF, signed with its partner-auth key as a true answer would be (a partner gone wrong).
    const wrongPdf = new Uint8Array(await (await pair.lg.request('GET', `/v1/licences/${otherLicence.id}/pdf`)).arrayBuffer())
    pair.override('lg.test', `/v1/partner/licences/${licence.id}/pdf`, async (request) => {
      const headers: Record<string, string> = {}
      request.headers.forEach((value, name) => void (headers[name] = value))
      const signed = await signResponse(
        { status: 200, body: wrongPdf, headers: { 'content-type': 'application/pdf' } },
        { method: 'GET', url: request.url, headers, body: new Uint8Array() },
        pair.lg.deps.partners.signingKey,
        new Date(),
      )
      return new Response(wrongPdf, { status: 200, headers: { 'content-type': 'application/pdf', ...signed } })
    })
    try {
      await pair.gz.outbox.drain()
    } finally {
      pair.override('lg.test', `/v1/partner/licences/${licence.id}/pdf`, undefined)
    }
    const collection = (await viewAt(pair.gz, id)).collection
    expect(collection).toMatchObject({ state: 'failed', pdf: null, credential: null })
    expect(collection.lastError).toBe(`the PDF is of licence ${otherLicence.number}, not ${licence.number}`)
    expect((await pair.gz.request('GET', `/v1/applications/${id}/collection/pdf`)).status).toBe(409)
    expect((await pair.gz.request('POST', `/v1/applications/${id}/collection/hand-over`)).status).toBe(409)
    const [job] = await messagesAbout(pair.gz, id, 'licence.collect')
    expect(job?.state).toBe('abandoned')
  })

  it('fails the collection when the licence was revoked before it was fetched', async () => {
    const { id } = await forwardedToLonggang(pair)
    const { licence } = await lgApproves(pair, id, 454)
    expect((await pair.lg.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '登记事项有误' } })).status).toBe(200)
    await pair.lg.outbox.drain()
    await pair.gz.outbox.drain()
    const collection = (await viewAt(pair.gz, id)).collection
    expect(collection).toMatchObject({ state: 'failed', verification: null, pdf: null })
    expect(collection.lastError).toContain('REVOKED')
  })
})

describe('a collected licence is verified again, with 龙岗’s status fetched anew, before 赣州 hands it over', () => {
  // Partner status copies kept for the default minute: the hand-over must not rely on one.
  let held: PartnerPair
  beforeAll(async () => {
    held = await createAgreedPair()
    await uploadAttachments(held.gz, establishmentForLonggang().attachments)
  })
  afterAll(() => held.close())

  async function collected(n: number): Promise<{ id: string; licence: { id: string; number: string } }> {
    const { id } = await forwardedToLonggang(held)
    const { licence } = await lgApproves(held, id, n)
    await held.lg.outbox.drain()
    await held.gz.outbox.drain()
    expect((await viewAt(held.gz, id)).collection).toMatchObject({ state: 'ready', verification: { credential: { indication: 'TOTAL_PASSED' } } })
    return { id, licence }
  }
  const handOver = (id: string) => held.gz.request('POST', `/v1/applications/${id}/collection/hand-over`)

  it('refuses a licence 龙岗 suspended since it was collected, though 赣州’s copy of the status list is seconds old, and hands it over once reinstated', async () => {
    const { id, licence } = await collected(470)
    // The copy 赣州 fetched while collecting still says active: a verification that trusted it would pass.
    expect((await held.gz.request('POST', '/v1/verify', { json: { credential: (await viewAt(held.gz, id)).collection.credential }, token: null }).then((r) => r.json())).indication).toBe('TOTAL_PASSED')
    expect((await held.lg.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '经营异常' } })).status).toBe(200)

    const refused = await handOver(id)
    expect(refused.status).toBe(409)
    expect(refused.headers.get('content-type')).toContain('application/problem+json')
    const problem = await refused.json()
    expect(problem.code).toBe('collected_licence_not_valid')
    expect(problem.detail).toContain(`licence ${licence.number} is suspended by 440307`)
    // Nothing changed: still ready, not handed over.
    expect((await viewAt(held.gz, id)).collection).toMatchObject({ state: 'ready', handedOverAt: null, handedOverBy: null })

    expect((await held.lg.request('POST', `/v1/licences/${licence.id}/reinstate`, { json: { reason: '已恢复' } })).status).toBe(200)
    const handed = await handOver(id)
    expect(handed.status).toBe(200)
    expect((await handed.json()).collection).toMatchObject({ state: 'handed_over', handedOverBy: 'admin' })
  })

  it('refuses a licence 龙岗 revoked since it was collected', async () => {
    const { id, licence } = await collected(471)
    expect((await held.lg.request('POST', `/v1/licences/${licence.id}/revoke`, { json: { reason: '登记事项有误' } })).status).toBe(200)
    const refused = await handOver(id)
    expect(refused.status).toBe(409)
    const problem = await refused.json()
    expect(problem.code).toBe('collected_licence_not_valid')
    expect(problem.detail).toContain('TOTAL_FAILED REVOKED')
    expect((await viewAt(held.gz, id)).collection).toMatchObject({ state: 'ready', handedOverAt: null })
  })

  it('answers 503 collected_licence_status_unknown when 龙岗 cannot be asked and 赣州 holds no copy of its status list still valid', async () => {
    const { id } = await collected(472)
    held.setDown('lg.test', true)
    // Two days on at 赣州: the copy it holds has run past its own validity.
    held.advanceGz(2 * 86_400_000)
    try {
      const refused = await handOver(id)
      expect(refused.status).toBe(503)
      const problem = await refused.json()
      expect(problem.code).toBe('collected_licence_status_unknown')
      expect(problem.detail).toContain('(INDETERMINATE TRY_LATER)')
      expect((await viewAt(held.gz, id)).collection).toMatchObject({ state: 'ready', handedOverAt: null })
    } finally {
      held.setDown('lg.test', false)
      held.advanceGz(-2 * 86_400_000)
    }
    expect((await handOver(id)).status).toBe(200)
  })
})
