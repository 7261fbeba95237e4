import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outboxWrites } from '../../src/adapters/postgres/pg-outbox'
import { partnerCallMessage } from '../../src/core/outbox/partner-message'
import { establishmentForLonggang, hygieneApplication, uploadAttachments } from '../support/applications'
import { gzForward, lgHolds, sendToLonggang } from '../support/forwarding'
import { createAgreedPair, type PartnerPair } from '../support/partner-pair'

let pair: PartnerPair
beforeAll(async () => {
  pair = await createAgreedPair()
})
afterAll(() => pair.close())

/** A 公共场所卫生许可: valid in itself, but the sample agreement does not let 赣州 accept it for 龙岗. */
const hygiene = {
  matter: 'public-place-hygiene',
  form: { legalRepresentative: '李四', address: '深圳市龙岗区龙岗大道1号', premisesType: '住宿场所（宾馆）', area: 1200 },
  attachments: hygieneApplication().attachments,
}

async function refusedWith(body: unknown, status: number, code: string) {
  const before = await lgHolds(pair)
  const answer = await sendToLonggang(pair, body)
  expect(answer.status).toBe(status)
  const problem = answer.json<{ code: string; detail: string; errors?: Array<{ pointer?: string; code?: string }> }>()
  expect(problem.code).toBe(code)
  expect(await lgHolds(pair)).toEqual(before)
  return problem
}

describe('POST /v1/partner/applications refusals', () => {
  it('refuses a matter the agreement does not let the caller accept for 龙岗 (403 outside_agreement, naming it)', async () => {
    const problem = await refusedWith(await gzForward(pair, { application: hygiene }), 403, 'outside_agreement')
    expect(problem.detail).toContain('公共场所卫生许可')
    expect(problem.detail).toContain('360700')
    await refusedWith(await gzForward(pair, { application: { matter: 'no-such-matter' } }), 403, 'outside_agreement')
  })

  it('abandons a forward 龙岗 refuses that way, with the problem code as its last error, and keeps nothing at 龙岗', async () => {
    const body = await gzForward(pair, { application: hygiene })
    await pair.gz.db.transaction((tx) =>
      outboxWrites(tx, () => new Date()).enqueueMessage(partnerCallMessage({ id: body.application.id, topic: 'application.forward', partner: '440307', method: 'POST', path: '/v1/partner/applications', body })),
    )
    await pair.gz.outbox.drain()
    const [row] = await pair.gz.db.query<{ state: string; last_error: string }>('SELECT state, last_error FROM outbox_messages WHERE id = $1', [body.application.id])
    expect(row).toMatchObject({ state: 'abandoned', last_error: expect.stringContaining('HTTP 403 outside_agreement') })
    expect(await lgHolds(pair, body.application.id)).toEqual({ applications: 0, events: 0 })
  })

  it('checks the form and attachments as 龙岗’s own window would, pointing into /application', async () => {
    const form = { ...establishmentForLonggang().form, registeredCapital: undefined, colour: 'blue' }
    const problem = await refusedWith(await gzForward(pair, { application: { form, attachments: [] } }), 422, 'invalid_application')
    expect(problem.errors?.map((e) => e.code)).toEqual(expect.arrayContaining(['invalid_form', 'missing_attachment']))
    expect(problem.errors?.every((e) => e.pointer?.startsWith('/application/'))).toBe(true)
  })

  it('refuses a forward of an application another region accepted, or that is for another region (invalid_forward)', async () => {
    await refusedWith(await gzForward(pair, { application: { acceptingRegion: { code: '110105', name: '朝阳区' } } }), 422, 'invalid_forward')
    await refusedWith(await gzForward(pair, { application: { handlingRegion: { code: '360700', name: '赣州市' } } }), 422, 'invalid_forward')
  })

  it('refuses a forward malformed as a request (400)', async () => {
    const body = await gzForward(pair)
    await refusedWith({ ...body, extra: true }, 400, 'invalid_request')
    await refusedWith({ ...body, application: { ...body.application, id: 'not-a-uuid' } }, 400, 'invalid_request')
  })

  it('refuses the same id with other content, leaving the first as it was (idempotency_key_reused)', async () => {
    const first = await gzForward(pair)
    expect((await sendToLonggang(pair, first)).status).toBe(201)
    const changed = await gzForward(pair, { application: { id: first.application.id, form: { ...first.application.form, businessScope: '房地产开发' } } })
    await refusedWith(changed, 422, 'idempotency_key_reused')
    const held = await (await pair.lg.request('GET', `/v1/applications/${first.application.id}`)).json()
    expect(held.form.businessScope).toBe('软件开发')
  })

  it('refuses an id that one of 龙岗’s own applications has (409 application_exists)', async () => {
    const request = establishmentForLonggang({ handlingRegion: undefined })
    await uploadAttachments(pair.lg, request.attachments)
    const own = await (await pair.lg.request('POST', '/v1/applications', { json: request })).json()
    await refusedWith(await gzForward(pair, { application: { id: own.id } }), 409, 'application_exists')
    expect((await (await pair.lg.request('GET', `/v1/applications/${own.id}`)).json()).acceptingRegion.code).toBe('440307')
  })
})
