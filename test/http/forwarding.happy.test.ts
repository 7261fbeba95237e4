import { compactVerify, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IDENTITY_CHECK_TYP } from '../../src/core/application/identity-check'
import { establishmentForLonggang } from '../support/applications'
import { agreeBoth, createPartnerPair, registerBoth, type PartnerPair } from '../support/partner-pair'

interface OutboxRow {
  id: string
  destination: string
  headers: Record<string, string>
  body: string
  state: string
  attempts: number
  last_error: string | null
}

let pair: PartnerPair
beforeAll(async () => {
  pair = await createPartnerPair()
  await registerBoth(pair)
  await agreeBoth(pair)
})
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
      attachments: application.attachments,
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
    const hygiene = {
      matter: 'public-place-hygiene',
      form: { legalRepresentative: '李四', address: '深圳市龙岗区龙岗大道1号', premisesType: '住宿场所（宾馆）', area: 1200 },
      attachments: ['premises-layout', 'hygiene-inspection-report', 'hygiene-management-rules'].map((key, i) => ({ key, sha256: String(i).repeat(64), size: 10, mediaType: 'application/pdf' })),
    }
    const refused = await pair.gz.request('POST', '/v1/applications', { json: establishmentForLonggang(hygiene) })
    expect(refused.status).toBe(422)
    const problem = await refused.json()
    expect(problem.code).toBe('matter_not_accepted')
    expect(problem.detail).toContain('公共场所卫生许可')
    expect(problem.detail).toContain('440307')
    const after = await pair.gz.db.query<{ n: number }>('SELECT (SELECT count(*) FROM applications)::int + (SELECT count(*) FROM outbox_messages)::int AS n')
    expect(after).toEqual(before)
  })
})
