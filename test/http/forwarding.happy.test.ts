import { compactVerify, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IDENTITY_CHECK_TYP } from '../../src/core/application/identity-check'
import { establishmentForLonggang, hygieneApplication, uploadAttachments } from '../support/applications'
import type { OutboxRow } from '../support/cross-region'
import { testUscc } from '../support/fixtures'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
  // The window scanned the documents in before it registers the applications.
  await uploadAttachments(pair.gz, [...establishmentForLonggang().attachments, ...hygieneApplication().attachments])
})

const refs = (attachments: Array<Record<string, unknown>>) => attachments.map(({ held: _, ...ref }) => ref)
afterAll(() => pair.close())

const forwardOf = async (id: string) => (await pair.gz.db.query<OutboxRow>('SELECT * FROM outbox_messages WHERE id = $1', [id]))[0]

describe('an application accepted at 赣州’s window for 龙岗 (异地受理)', () => {
  it('is stored here with 龙岗 as its handling region and its forward enqueued in the same step', async () => {
    const created = await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang() })
    expect(created.status).toBe(201)
    const application = await created.json()
    expect(application).toMatchObject({ status: 'received', acceptingRegion: { code: '360700' }, handlingRegion: { code: '440307', name: '深圳市龙岗区' } })

    const forward = await forwardOf(application.id)
    expect(forward).toMatchObject({ destination: 'partner:440307', state: 'pending', headers: { 'tongban-partner-method': 'POST', 'tongban-partner-path': '/v1/partner/applications' } })
    const body = JSON.parse((forward as OutboxRow).body)
    expect(body.application).toEqual({
      id: application.id,
      matter: 'enterprise-establishment',
      applicant: application.applicant,
      form: application.form,
      attachments: refs(application.attachments),
      acceptingRegion: { code: '360700', name: '赣州市' },
      handlingRegion: { code: '440307', name: '深圳市龙岗区' },
      submittedAt: application.timeline[0].at,
      submittedBy: application.timeline[0].actor,
    })
    expect(body.application.attachments.map((a: { sha256: string }) => a.sha256)).toHaveLength(3)

    // The identity check is 赣州's attestation, verifiable with the key its trust list publishes.
    const header = decodeProtectedHeader(body.identityCheck)
    expect(header.typ).toBe(IDENTITY_CHECK_TYP)
    const key = pair.gz.trustStore.findRegionKey(header.kid as string, 'attestation-signer')
    expect(key?.region.code).toBe('360700')
    const claims = JSON.parse(new TextDecoder().decode((await compactVerify(body.identityCheck, key!.publicKey)).payload))
    expect(claims).toMatchObject({
      iss: 'http://gz.test',
      region: { code: '360700' },
      aud: '440307',
      applicationId: application.id,
      applicant: { kind: 'person', identifier: '11010519491231002X', name: '王五' },
      method: 'window',
      checkedBy: application.timeline[0].actor,
    })
  })

  it('is not forwarded when it is handled here', async () => {
    const created = await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang({ handlingRegion: undefined }) })
    expect(created.status).toBe(201)
    expect(await forwardOf((await created.json()).id)).toBeUndefined()
  })

  it('is refused with nothing stored or enqueued when the agreement does not let 赣州 accept the matter for 龙岗', async () => {
    const before = await pair.gz.db.query<{ n: number }>('SELECT (SELECT count(*) FROM applications)::int + (SELECT count(*) FROM outbox_messages)::int AS n')
    const { matter, form, attachments } = hygieneApplication()
    const refused = await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang({ matter, form, attachments }) })
    expect(refused.status).toBe(422)
    const problem = await refused.json()
    expect(problem.code).toBe('matter_not_accepted')
    expect(problem.detail).toContain('公共场所卫生许可')
    expect(problem.detail).toContain('440307')
    const after = await pair.gz.db.query<{ n: number }>('SELECT (SELECT count(*) FROM applications)::int + (SELECT count(*) FROM outbox_messages)::int AS n')
    expect(after).toEqual(before)
  })
})

const lgCount = async (id: string) =>
  (await pair.lg.db.query<{ applications: number; events: number }>(
    'SELECT (SELECT count(*) FROM applications WHERE id = $1)::int AS applications, (SELECT count(*) FROM application_events WHERE application_id = $1)::int AS events',
    [id],
  ))[0]

describe('the forward reaching 龙岗 (远程办理)', () => {
  it('is delivered by the outbox, stored at 龙岗 with the identity check on its first step, and handled there by staff', async () => {
    const application = await (await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang() })).json()
    expect(await pair.gz.outbox.drain()).toBeGreaterThanOrEqual(1)
    expect(await forwardOf(application.id)).toMatchObject({ state: 'delivered', attempts: 1 })

    const there = await (await pair.lg.request('GET', `/v1/applications/${application.id}`)).json()
    expect(there).toMatchObject({
      id: application.id,
      matter: { code: 'enterprise-establishment' },
      applicant: application.applicant,
      form: application.form,
      // Not held at 龙岗 yet: its outbox fetches them from 赣州.
      attachments: refs(application.attachments).map((ref) => ({ ...ref, held: false })),
      acceptingRegion: { code: '360700', name: '赣州市' },
      handlingRegion: { code: '440307', name: '深圳市龙岗区' },
      status: 'received',
    })
    expect(there.timeline).toHaveLength(1)
    expect(there.timeline[0]).toMatchObject({ sequence: 1, action: 'submit', to: 'received', actor: `partner:360700 ${application.timeline[0].actor}` })
    expect(there.timeline[0].detail).toMatchObject({ acceptedBy: { code: '360700' }, identityCheck: { method: 'window', checkedBy: application.timeline[0].actor } })

    // 龙岗's staff handle it with the decisions endpoint, as one made at their own window, once its documents are fetched.
    await pair.lg.outbox.drain()
    for (const action of ['accept', 'review']) expect((await pair.lg.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action } })).status).toBe(200)
    const holder = { kind: 'enterprise', uscc: testUscc(440), name: '深圳龙岗通办科技有限公司' }
    const approved = await pair.lg.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action: 'approve', licence: { holder, fields: { establishedOn: '2026-12-04' }, validUntil: '2056-12-03' } } })
    expect(approved.status).toBe(200)
    expect(await approved.json()).toMatchObject({ status: 'approved', issuedLicence: { id: expect.any(String) } })
    // 赣州 does not decide an application 龙岗 handles.
    expect((await pair.gz.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action: 'accept' } })).status).toBe(409)
  })

  it('waits while 龙岗 is down when it is accepted, and is delivered once 龙岗 is back', async () => {
    pair.setDown('lg.test', true)
    const application = await (await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang() })).json()
    await pair.gz.outbox.drain()
    expect(await forwardOf(application.id)).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.stringContaining('lg.test is down') })
    expect(await lgCount(application.id)).toEqual({ applications: 0, events: 0 })

    pair.setDown('lg.test', false)
    // Not yet due: the retry waits for its backoff (at most 2 s after the first failure).
    await pair.gz.outbox.drain()
    expect(await forwardOf(application.id)).toMatchObject({ state: 'pending', attempts: 1 })
    pair.advanceGz(5_000)
    await pair.gz.outbox.drain()
    expect(await forwardOf(application.id)).toMatchObject({ state: 'delivered', attempts: 2 })
    expect(await lgCount(application.id)).toEqual({ applications: 1, events: 1 })
  })

  it('is stored once when the same forward is delivered twice, and the repeat gets the same answer', async () => {
    const application = await (await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang() })).json()
    const forward = (await forwardOf(application.id)) as OutboxRow
    const first = await pair.gz.deps.partners.client.call('440307', { method: 'POST', path: '/v1/partner/applications', body: JSON.parse(forward.body) })
    expect(first.status).toBe(201)
    expect(first.json()).toEqual({ id: application.id, status: 'received' })

    // The outbox delivers it again (its answer was lost, say): nothing changes at 龙岗.
    await pair.gz.outbox.drain()
    expect(await forwardOf(application.id)).toMatchObject({ state: 'delivered' })
    const again = await pair.gz.deps.partners.client.call('440307', { method: 'POST', path: '/v1/partner/applications', body: JSON.parse(forward.body) })
    expect(again.status).toBe(201)
    expect(again.json()).toEqual(first.json())
    expect(await lgCount(application.id)).toEqual({ applications: 1, events: 1 })

    // Even after 龙岗 has moved it on, a late repeat neither resets nor duplicates it.
    expect((await pair.lg.request('POST', `/v1/applications/${application.id}/decisions`, { json: { action: 'accept' } })).status).toBe(200)
    expect((await pair.gz.deps.partners.client.call('440307', { method: 'POST', path: '/v1/partner/applications', body: JSON.parse(forward.body) })).status).toBe(201)
    expect(await lgCount(application.id)).toEqual({ applications: 1, events: 2 })
    expect((await (await pair.lg.request('GET', `/v1/applications/${application.id}`)).json()).status).toBe('accepted')
  })
})
