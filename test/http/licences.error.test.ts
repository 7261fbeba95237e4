import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JwsSigner } from '../../src/core/ports'
import { createTestApp, type TestApp } from '../support/app'
import { databaseKind } from '../support/database'
import { businessLicenceRequest, testUscc } from '../support/fixtures'

/**
 * Bad input on every licence endpoint gets a 4xx RFC 9457 problem with a stable code (and a
 * pointer where one helps), never a 500, and never leaves a row behind. The one allowed 500 is a
 * genuine server failure mid-issuance, and then the whole transaction is rolled back.
 */

interface Problem {
  type: string
  title: string
  status: number
  code: string
  detail: string
  instance?: string
  errors?: Array<{ pointer?: string; message: string; code?: string }>
}

async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text()
  expect({ status: response.status, body: text }).toMatchObject({ status })
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const problem = JSON.parse(text) as Problem
  expect(problem).toMatchObject({ type: `https://tongban.dev/problems/${code}`, status, code })
  expect(problem.title).toEqual(expect.any(String))
  expect(problem.detail).toEqual(expect.any(String))
  expect(problem.detail.length).toBeGreaterThan(5)
  return problem
}

const pointers = (problem: Problem) => (problem.errors ?? []).map((e) => e.pointer)

/** Everything a write can leave behind: rows in each table, and the counters inside sequences and status lists. */
async function snapshot(t: TestApp) {
  const [row] = await t.db.query<Record<string, number>>(`SELECT
    (SELECT count(*) FROM licences)::int AS licences,
    (SELECT count(*) FROM licence_events)::int AS licence_events,
    (SELECT count(*) FROM status_lists)::int AS status_lists,
    (SELECT coalesce(sum(used), 0) FROM status_lists)::int AS status_slots_used,
    (SELECT count(*) FROM sequences)::int AS sequences,
    (SELECT coalesce(sum(value), 0) FROM sequences)::int AS sequence_values,
    (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys,
    (SELECT string_agg(id || ':' || status || ':' || coalesce(status_reason, ''), ',' ORDER BY id) FROM licences) AS statuses`)
  return row as Record<string, number | string | null>
}

/** Runs a request that must fail and checks that the database is exactly as it was. */
async function withoutWrites(t: TestApp, send: () => Promise<Response>): Promise<Response> {
  const before = await snapshot(t)
  const response = await send()
  expect(response.status).not.toBe(500)
  expect(await snapshot(t)).toEqual(before)
  return response
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
const base = businessLicenceRequest()
const holder = base.holder as { kind: 'enterprise'; uscc: string; name: string }
const withUscc = (uscc: string) => businessLicenceRequest({ holder: { ...holder, uscc } })
const withFields = (fields: Record<string, unknown>) => businessLicenceRequest({ fields })
const personRequest = (idNumber: string) => businessLicenceRequest({ holder: { kind: 'person', idNumber, name: '李四' } })

describe(`bad input to the licence endpoints (${databaseKind})`, () => {
  let t: TestApp
  let active: { id: string }
  let revoked: { id: string }

  beforeAll(async () => {
    t = await createTestApp()
    active = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
    revoked = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: { ...holder, uscc: testUscc(2) } }) })).json()
    expect((await t.request('POST', `/v1/licences/${revoked.id}/revoke`, { json: { reason: '申请人主动注销' } })).status).toBe(200)
  })
  afterAll(() => t.close())

  const issue = (init: Parameters<TestApp['request']>[2]) => withoutWrites(t, () => t.request('POST', '/v1/licences', init))

  describe('POST /v1/licences: bodies that are not a JSON object', () => {
    it('malformed JSON is 400 malformed_json', async () => {
      await expectProblem(await issue({ body: '{"type":', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    })

    it('an empty body is 400 malformed_json', async () => {
      await expectProblem(await issue({ body: '', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    })

    it('no body at all is 400, naming the missing members', async () => {
      const problem = await expectProblem(await issue({}), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(expect.arrayContaining(['/type', '/holder', '/fields', '/validFrom', '/validUntil']))
    })

    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['XML', 'application/xml'],
    ])('a %s body is 415 unsupported_media_type', async (_, contentType) => {
      const problem = await expectProblem(await issue({ body: JSON.stringify(base), headers: { 'content-type': contentType } }), 415, 'unsupported_media_type')
      expect(problem.detail).toContain(contentType)
    })

    it('a body without a Content-Type is 415 unsupported_media_type', async () => {
      const problem = await expectProblem(await issue({ body: new TextEncoder().encode(JSON.stringify(base)) }), 415, 'unsupported_media_type')
      expect(problem.detail).toMatch(/without a Content-Type/)
    })

    it.each([
      ['an array', []],
      ['null', null],
      ['a string', 'business-licence'],
      ['a number', 42],
    ])('%s is 400 invalid_request at the root', async (_, json) => {
      const problem = await expectProblem(await issue({ json }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual([''])
    })

    it('wrongly typed members are 400 invalid_request, each pointed at', async () => {
      const problem = await expectProblem(await issue({ json: { ...base, type: 7, fields: [], validFrom: 20260105 } }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(expect.arrayContaining(['/type', '/fields', '/validFrom']))
    })
  })

  describe('POST /v1/licences: the schema is strict', () => {
    it('an unknown top-level member is 400 invalid_request pointing at it', async () => {
      const problem = await expectProblem(await issue({ json: { ...base, status: 'revoked', number: 'x' } }), 400, 'invalid_request')
      expect(pointers(problem).sort()).toEqual(['/number', '/status'])
      expect(problem.detail).toContain('/status')
    })

    it('an unknown member of the holder is 400 invalid_request pointing at it', async () => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ holder: { ...holder, idNumber: '11010519491231002X' } }) }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(['/holder/idNumber'])
    })

    it.each([
      ['an unknown kind', { kind: 'robot', uscc: holder.uscc, name: 'x' }],
      ['no kind', { uscc: holder.uscc, name: 'x' }],
      ['kind as a number', { kind: 1, uscc: holder.uscc, name: 'x' }],
    ])('a holder with %s is 400 invalid_request at /holder/kind', async (_, badHolder) => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ holder: badHolder }) }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(['/holder/kind'])
    })

    it('a person holder given a credit code instead of an identity number is 400 invalid_request', async () => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ holder: { kind: 'person', uscc: holder.uscc, name: '李四' } }) }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(expect.arrayContaining(['/holder/idNumber', '/holder/uscc']))
    })

    it('a blank holder name is 400 invalid_request at /holder/name', async () => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ holder: { ...holder, name: '   ' } }) }), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(['/holder/name'])
    })
  })

  describe('POST /v1/licences: 统一社会信用代码 (GB 32100)', () => {
    const valid = testUscc(3)
    it.each([
      ['17 characters', valid.slice(0, 17), /18 characters, this one has 17/],
      ['19 characters', `${valid}1`, /18 characters, this one has 19/],
      ['an empty string', '', /18 characters, this one has 0/],
      ['the letter I', `${valid.slice(0, 10)}I${valid.slice(11)}`, /character 11 \('I'\) is not in the GB 32100 character set/],
      ['the letter O', `${valid.slice(0, 10)}O${valid.slice(11)}`, /character 11 \('O'\)/],
      ['the letter Z', `${valid.slice(0, 10)}Z${valid.slice(11)}`, /character 11 \('Z'\)/],
      ['the letter S', `${valid.slice(0, 10)}S${valid.slice(11)}`, /character 11 \('S'\)/],
      ['the letter V', `${valid.slice(0, 10)}V${valid.slice(11)}`, /character 11 \('V'\)/],
      ['lower case', valid.toLowerCase(), /is not in the GB 32100 character set/],
      ['a full-width digit', `９${valid.slice(1)}`, /character 1 \('９'\)/],
      ['a wrong check character', `${valid.slice(0, 17)}${valid[17] === '0' ? '1' : '0'}`, new RegExp(`check character is '.', GB 32100 requires '${valid[17]}'`)],
      ['two digits swapped', `${valid.slice(0, 2)}${valid[3]}${valid[2]}${valid.slice(4)}`, /check character is/],
    ])('%s is 422 invalid_uscc saying what is wrong, at /holder/uscc', async (_, uscc, says) => {
      const problem = await expectProblem(await issue({ json: withUscc(uscc) }), 422, 'invalid_uscc')
      expect(problem.detail).toMatch(says)
      expect(problem.detail).toContain('统一社会信用代码')
      expect(problem.errors).toEqual([{ pointer: '/holder/uscc', message: expect.stringMatching(says) }])
    })
  })

  describe('POST /v1/licences: 公民身份号码 (GB 11643)', () => {
    it.each([
      ['a wrong check character', '110105194912310021', /check character is '1', GB 11643 requires 'X'/],
      ['17 digits', '11010519491231002', /17 digits and a check character/],
      ['a lower-case x', '11010519491231002x', /17 digits and a check character/],
      ['letters', '11010519491231ABCX', /17 digits and a check character/],
      ['month 13 (with a matching check character)', '110105194913310021', /birth date/],
    ])('%s is 422 invalid_id_number at /holder/idNumber', async (_, idNumber, says) => {
      const problem = await expectProblem(await issue({ json: personRequest(idNumber) }), 422, 'invalid_id_number')
      expect(problem.detail).toMatch(says)
      expect(pointers(problem)).toEqual(['/holder/idNumber'])
    })

    it('a valid identity number is accepted (the control for the cases above)', async () => {
      const response = await t.request('POST', '/v1/licences', { json: personRequest('11010519491231002X') })
      expect(response.status).toBe(201)
    })
  })

  describe('POST /v1/licences: type and fields', () => {
    it('an unknown licence type is 422 unknown_licence_type at /type', async () => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ type: 'fishing-licence' }) }), 422, 'unknown_licence_type')
      expect(problem.detail).toContain('GET /v1/licence-types')
      expect(pointers(problem)).toEqual(['/type'])
    })

    it('fields that break the type schema are 422 invalid_fields naming each pointer', async () => {
      const { legalRepresentative: _, ...rest } = base.fields
      const fields = { ...rest, entityType: 42, establishedOn: '5 January 2026', businessScope: '', colour: 'red' }
      const problem = await expectProblem(await issue({ json: withFields(fields) }), 422, 'invalid_fields')
      expect(problem.detail).toContain('营业执照')
      expect([...new Set(pointers(problem))].sort()).toEqual(['/fields/businessScope', '/fields/colour', '/fields/entityType', '/fields/establishedOn', '/fields/legalRepresentative'])
      expect(problem.errors).toContainEqual({ pointer: '/fields/legalRepresentative', message: 'required' })
      expect(problem.errors).toContainEqual({ pointer: '/fields/colour', message: 'not a field of 营业执照' })
    })

    it("another type's fields are 422 invalid_fields", async () => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ type: 'food-business-licence' }) }), 422, 'invalid_fields')
      expect(problem.detail).toContain('食品经营许可证')
      expect(pointers(problem).every((p) => p?.startsWith('/fields/'))).toBe(true)
    })

    it('empty fields are 422 invalid_fields listing every required field', async () => {
      const problem = await expectProblem(await issue({ json: withFields({}) }), 422, 'invalid_fields')
      expect(pointers(problem).sort()).toEqual(['/fields/address', '/fields/businessScope', '/fields/entityType', '/fields/establishedOn', '/fields/legalRepresentative'])
    })
  })

  describe('POST /v1/licences: validity', () => {
    it.each([
      ['validUntil before validFrom', '2026-01-05', '2025-01-05'],
      ['validUntil equal to validFrom', '2026-01-05T00:00:00Z', '2026-01-05'],
      ['the same instant in two time zones', '2026-01-05T08:00:00+08:00', '2026-01-05T00:00:00Z'],
    ])('%s is 422 invalid_validity at /validUntil', async (_, validFrom, validUntil) => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ validFrom, validUntil }) }), 422, 'invalid_validity')
      expect(pointers(problem)).toEqual(['/validUntil'])
    })

    it.each([
      ['a word', 'tomorrow'],
      ['an empty string', ''],
      ['slashes', '2026/01/05'],
      ['a day off the calendar', '2026-02-30'],
      ['29 February of a common year', '2027-02-29'],
      ['month 13', '2026-13-01'],
      ['hour 25', '2026-01-05T25:00:00Z'],
      ['a date-time without a zone', '2026-01-05T08:00:00'],
      ['a six-digit year', '+020260-01-05'],
      ['year 0000', '0000-01-01'],
      ['year 1899', '1899-12-31'],
      ['beyond year 9999 in UTC', '9999-12-31T23:00:00-14:00'],
    ])('%s as validFrom is 422 invalid_date at /validFrom', async (_, validFrom) => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest({ validFrom, validUntil: '9999-01-01' }) }), 422, 'invalid_date')
      expect(pointers(problem)).toEqual(['/validFrom'])
    })

    it('29 February of a leap year, and a date-time with an offset, are accepted', async () => {
      const response = await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ validFrom: '2028-02-29', validUntil: '2048-02-28T23:59:59.999+08:00' }) })
      expect(response.status).toBe(201)
    })
  })

  describe('POST /v1/licences: every problem at once', () => {
    it('a bad type, credit code and dates come back together as 422 invalid_licence_request, each with its code', async () => {
      const request = businessLicenceRequest({ type: 'fishing-licence', holder: { ...holder, uscc: '91360702MA0000001I' }, validFrom: '2026-02-30', validUntil: 'never' })
      const problem = await expectProblem(await issue({ json: request }), 422, 'invalid_licence_request')
      expect(problem.errors).toEqual([
        { pointer: '/type', message: 'unknown licence type', code: 'unknown_licence_type' },
        { pointer: '/holder/uscc', message: expect.stringContaining("('I')"), code: 'invalid_uscc' },
        { pointer: '/validFrom', message: expect.any(String), code: 'invalid_date' },
        { pointer: '/validUntil', message: expect.any(String), code: 'invalid_date' },
      ])
      expect(problem.detail).toMatch(/4 problems/)
    })

    it('bad fields and a backwards validity window come back together', async () => {
      const request = businessLicenceRequest({ fields: { ...base.fields, colour: 'red' }, validFrom: '2030-01-01', validUntil: '2029-01-01' })
      const problem = await expectProblem(await issue({ json: request }), 422, 'invalid_licence_request')
      expect(problem.errors?.map((e) => [e.pointer, e.code])).toEqual([
        ['/fields/colour', 'invalid_fields'],
        ['/validUntil', 'invalid_validity'],
      ])
    })
  })

  describe('POST /v1/licences: strings the database cannot store', () => {
    it.each([
      ['U+0000 in the holder name', { holder: { ...holder, name: '赣州\u0000科技' } }, '/holder/name'],
      ['U+0000 in a field', { fields: { ...base.fields, address: '长征大道\u00001号' } }, '/fields/address'],
      ['an unpaired high surrogate in a field', { fields: { ...base.fields, businessScope: '软件\ud83d开发' } }, '/fields/businessScope'],
      ['an unpaired low surrogate in the holder name', { holder: { ...holder, name: '\ude00赣州' } }, '/holder/name'],
    ])('%s is 422 invalid_characters pointing at the string', async (_, overrides, pointer) => {
      const problem = await expectProblem(await issue({ json: businessLicenceRequest(overrides) }), 422, 'invalid_characters')
      expect(pointers(problem)).toEqual([pointer])
    })

    it('a paired surrogate (an emoji outside the BMP) is fine', async () => {
      const response = await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ fields: { ...base.fields, businessScope: '软件开发 😀' } }) })
      expect(response.status).toBe(201)
    })
  })

  describe('POST /v1/licences: size and headers', () => {
    it('a body over 10 MB is 413 body_too_large', async () => {
      const padding = 'x'.repeat(10 * 1024 * 1024)
      await expectProblem(await issue({ json: businessLicenceRequest({ fields: { ...base.fields, businessScope: padding } }) }), 413, 'body_too_large')
    })

    it('a body over 10 MB that is not even JSON is 413 too', async () => {
      await expectProblem(await issue({ body: new Uint8Array(10 * 1024 * 1024 + 1), headers: { 'content-type': 'application/json' } }), 413, 'body_too_large')
    })

    it.each([
      ['with a space', 'a b'],
      ['too long', 'k'.repeat(129)],
      ['non-ASCII', '幂等键'],
    ])('an Idempotency-Key %s is 400 invalid_request', async (_, key) => {
      // Headers must be ByteStrings; non-ASCII keys arrive as Latin-1 bytes in real HTTP.
      const value = /^[\x20-\x7e]*$/.test(key) ? key : Buffer.from(key).toString('latin1')
      await expectProblem(await issue({ json: base, headers: { 'idempotency-key': value } }), 400, 'invalid_request')
    })
  })

  describe('GET /v1/licences/{id} and /credential', () => {
    it.each([
      ['an unknown uuid', UNKNOWN_ID],
      ['a non-uuid', 'abc'],
      ['a number', '1'],
      ['a uuid with a trailing character', `${UNKNOWN_ID}0`],
      ['a very long id', 'a'.repeat(5000)],
      ['an encoded NUL', '%00'],
    ])('%s is 404 licence_not_found', async (_, id) => {
      await expectProblem(await t.request('GET', `/v1/licences/${id}`), 404, 'licence_not_found')
      await expectProblem(await t.request('GET', `/v1/licences/${id}/credential`), 404, 'licence_not_found')
    })

    it('an unknown sub-resource is 404 not_found', async () => {
      await expectProblem(await t.request('GET', `/v1/licences/${active.id}/history`), 404, 'not_found')
    })
  })

  describe('POST /v1/licences/{id}/{suspend|reinstate|revoke|change}', () => {
    const actions = ['suspend', 'reinstate', 'revoke'] as const
    const change = { reason: '经营范围变更', fields: { ...base.fields, businessScope: '软件开发' } }

    it.each(actions.flatMap((action) => [UNKNOWN_ID, 'abc', "1' OR '1'='1"].map((id) => [action, id] as const)))(
      '%s of %s is 404 licence_not_found',
      async (action, id) => {
        const response = await withoutWrites(t, () => t.request('POST', `/v1/licences/${encodeURIComponent(id)}/${action}`, { json: { reason: '检查' } }))
        await expectProblem(response, 404, 'licence_not_found')
      },
    )

    it.each([UNKNOWN_ID, 'abc'])('change of %s is 404 licence_not_found', async (id) => {
      await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${id}/change`, { json: change })), 404, 'licence_not_found')
    })

    it.each([
      ['suspend', 'a revoked licence', () => revoked.id],
      ['reinstate', 'a revoked licence', () => revoked.id],
      ['revoke', 'a revoked licence', () => revoked.id],
      ['reinstate', 'an active licence', () => active.id],
      ['change', 'a revoked licence', () => revoked.id],
    ])('%s of %s is 409 invalid_transition', async (action, _, id) => {
      const body = action === 'change' ? change : { reason: '再次处理' }
      const problem = await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${id()}/${action}`, { json: body })), 409, 'invalid_transition')
      expect(problem.detail).toMatch(/revoked|active/)
    })

    it('suspending a suspended licence is 409 invalid_transition', async () => {
      const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })).json()
      expect((await t.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '现场检查' } })).status).toBe(200)
      await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '再次检查' } })), 409, 'invalid_transition')
    })

    it.each(['suspend', 'revoke'])('%s without a reason is 422 reason_required at /reason', async (action) => {
      const problem = await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/${action}`, { json: {} })), 422, 'reason_required')
      expect(pointers(problem)).toEqual(['/reason'])
    })

    it.each(['suspend', 'revoke'])('%s with a blank or wrongly typed reason is 400 invalid_request at /reason', async (action) => {
      for (const reason of ['   ', 42, null]) {
        const problem = await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/${action}`, { json: { reason } })), 400, 'invalid_request')
        expect(pointers(problem)).toEqual(['/reason'])
      }
    })

    it.each(actions)('%s with an unknown member, malformed JSON or text/plain is 4xx', async (action) => {
      const send = (init: Parameters<TestApp['request']>[2]) => withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/${action}`, init))
      expect(pointers(await expectProblem(await send({ json: { reason: '检查', force: true } }), 400, 'invalid_request'))).toEqual(['/force'])
      await expectProblem(await send({ body: '{"reason":', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
      await expectProblem(await send({ body: '{"reason":"检查"}', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type')
    })

    it('a reason with U+0000 is 422 invalid_characters', async () => {
      const problem = await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/suspend`, { json: { reason: '检查\u0000' } })), 422, 'invalid_characters')
      expect(pointers(problem)).toEqual(['/reason'])
    })

    it('a change that changes nothing is 400 invalid_request', async () => {
      await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/change`, { json: { reason: '无' } })), 400, 'invalid_request')
    })

    it('a change with fields that break the schema is 422 invalid_fields', async () => {
      const body = { reason: '变更', fields: { ...base.fields, colour: 'red' } }
      const problem = await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/change`, { json: body })), 422, 'invalid_fields')
      expect(pointers(problem)).toEqual(['/fields/colour'])
    })

    it('a change with a validUntil off the calendar is 422 invalid_date', async () => {
      const body = { reason: '延续', validUntil: '2050-02-30' }
      await expectProblem(await withoutWrites(t, () => t.request('POST', `/v1/licences/${active.id}/change`, { json: body })), 422, 'invalid_date')
    })

    it('the licences the failed requests aimed at are unchanged', async () => {
      expect(await (await t.request('GET', `/v1/licences/${active.id}`)).json()).toMatchObject({ status: 'active', version: 1, events: [{ action: 'issued' }] })
      const detail = await (await t.request('GET', `/v1/licences/${revoked.id}`)).json()
      expect(detail.events.map((e: { action: string }) => e.action)).toEqual(['issued', 'revoked'])
    })
  })

  describe('other endpoints', () => {
    it.each([
      ['GET', '/v1/nope'],
      ['GET', '/v2/licences'],
      ['DELETE', '/v1/licences'],
      ['PUT', '/healthz'],
      ['GET', '/v1/licences/'],
    ])('%s %s is 404 not_found', async (method, path) => {
      const problem = await expectProblem(await t.request(method, path), 404, 'not_found')
      expect(problem.instance).toBe(path)
    })

    it('an unknown status list is 404 status_list_not_found', async () => {
      await expectProblem(await t.request('GET', '/v1/status/r999999'), 404, 'status_list_not_found')
      await expectProblem(await t.request('GET', '/v1/status/s999999'), 404, 'status_list_not_found')
    })

    it('a status list id that cannot exist is 400 invalid_request at /listId', async () => {
      const problem = await expectProblem(await t.request('GET', '/v1/status/x1'), 400, 'invalid_request')
      expect(pointers(problem)).toEqual(['/listId'])
    })

    it.each([
      ['malformed JSON', 400, 'malformed_json', { body: '{"credential":', headers: { 'content-type': 'application/json' } }],
      ['text/plain', 415, 'unsupported_media_type', { body: '{}', headers: { 'content-type': 'text/plain' } }],
      ['an empty object', 400, 'invalid_request', { json: {} }],
      ['both credential and qr', 400, 'invalid_request', { json: { credential: 'a.b.c', qr: 'x' } }],
      ['an unknown member', 400, 'invalid_request', { json: { credential: 'a.b.c', strict: false } }],
      ['a bad at', 400, 'invalid_request', { json: { credential: 'a.b.c', at: 'yesterday' } }],
      ['a NUL in the credential', 422, 'invalid_characters', { json: { credential: 'a.b\u0000.c' } }],
    ] as const)('POST /v1/verify with %s is %i %s', async (_, status, code, init) => {
      await expectProblem(await withoutWrites(t, () => t.request('POST', '/v1/verify', { ...init, token: null })), status, code)
    })

    it('no bad request above was logged as an unhandled error', () => {
      expect(t.logged).toEqual([])
    })
  })
})

describe(`a failure in the middle of issuance rolls everything back (${databaseKind})`, () => {
  let t: TestApp
  let failSigning = false

  beforeAll(async () => {
    const wrapSigner = (signer: JwsSigner): JwsSigner => ({
      kid: signer.kid,
      alg: signer.alg,
      sign: async (payload, header) => {
        if (failSigning) throw new Error('HSM unavailable (simulated)')
        return signer.sign(payload, header)
      },
    })
    t = await createTestApp({ wrapSigner })
  })
  afterAll(() => t.close())

  const issue = (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    t.request('POST', '/v1/licences', { json: businessLicenceRequest(overrides), headers })
  const serialOf = (licence: { number: string }) => licence.number.split('.')[7]

  it('a signer failing on the very first issuance leaves no sequence, status list or idempotency key behind', async () => {
    failSigning = true
    const problem = await expectProblem(await issue({}, { 'idempotency-key': 'first-try' }), 500, 'internal_error')
    failSigning = false
    expect(problem.detail).not.toMatch(/HSM/)
    for (const table of ['licences', 'licence_events', 'status_lists', 'sequences', 'idempotency_keys']) {
      expect({ table, rows: await t.db.query(`SELECT * FROM ${table}`) }).toEqual({ table, rows: [] })
    }
    expect(t.logged).toHaveLength(1)
    expect(String((t.logged[0] as { err: Error }).err)).toMatch(/HSM unavailable/)
    await expectProblem(await t.request('GET', '/v1/status/r1'), 404, 'status_list_not_found')
  })

  it('the retry with the same Idempotency-Key issues, with the first serial and the first status slots', async () => {
    const response = await issue({}, { 'idempotency-key': 'first-try' })
    expect(response.status).toBe(201)
    expect(response.headers.get('idempotent-replayed')).toBeNull()
    const licence = await response.json()
    expect(serialOf(licence)).toBe('3607000000000001')
    const payload = JSON.parse(Buffer.from(licence.credential.split('.')[1], 'base64url').toString())
    expect(payload.credentialStatus.map((s: { statusListIndex: string; statusListCredential: string }) => [s.statusListCredential.split('/').pop(), s.statusListIndex])).toEqual([
      ['r1', '0'],
      ['s1', '0'],
    ])
  })

  it('a later failure changes nothing, and the next issuance gets the serial the failed one would have had', async () => {
    const before = await snapshot(t)
    failSigning = true
    await expectProblem(await issue(), 500, 'internal_error')
    failSigning = false
    expect(await snapshot(t)).toEqual(before)
    const next = await (await issue()).json()
    expect(serialOf(next)).toBe('3607000000000002')
    expect(next.status).toBe('active')
  })

  it('a database failure after signing (a duplicate licence id) rolls back the serial and the slots', async () => {
    const existing = await (await issue()).json()
    const before = await snapshot(t)
    const newId = t.deps.licences.newId
    t.deps.licences.newId = () => existing.id
    try {
      await expectProblem(await issue({}, { 'idempotency-key': 'dup-id' }), 500, 'internal_error')
    } finally {
      t.deps.licences.newId = newId
    }
    expect(await snapshot(t)).toEqual(before)
    const next = await (await issue({}, { 'idempotency-key': 'dup-id' })).json()
    expect(serialOf(next)).toBe(String(BigInt(serialOf(existing) as string) + 1n))
  })

  it('a database failure on the last statement (the event row) rolls back the licence row too', async () => {
    await t.db.exec(`
      CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;
      CREATE TRIGGER refuse_event BEFORE INSERT ON licence_events FOR EACH ROW EXECUTE FUNCTION refuse_event();`)
    const target = (await t.db.query<{ id: string }>("SELECT id FROM licences WHERE status = 'active' ORDER BY issued_at LIMIT 1"))[0] as { id: string }
    const before = await snapshot(t)
    try {
      await expectProblem(await issue(), 500, 'internal_error')
      await expectProblem(await t.request('POST', `/v1/licences/${target.id}/suspend`, { json: { reason: '检查' } }), 500, 'internal_error')
      await expectProblem(await t.request('POST', `/v1/licences/${target.id}/change`, { json: { reason: '变更', holderName: '新名称有限公司' } }), 500, 'internal_error')
    } finally {
      await t.db.exec('DROP TRIGGER refuse_event ON licence_events; DROP FUNCTION refuse_event();')
    }
    expect(await snapshot(t)).toEqual(before)
    // The in-memory status lists were told nothing either: the licence still verifies.
    const credential = await (await t.request('GET', `/v1/licences/${target.id}/credential`)).text()
    expect(await (await t.request('POST', '/v1/verify', { json: { credential } })).json()).toMatchObject({ indication: 'TOTAL_PASSED' })
  })
})

describe(`Idempotency-Key on POST /v1/licences (${databaseKind})`, () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  const count = async (table: string) => ((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0] as { n: number }).n
  const issue = (key: string, body: unknown = businessLicenceRequest()) => t.request('POST', '/v1/licences', { json: body, headers: { 'idempotency-key': key } })

  it('a retry with the same key and body is 200 with the same licence and Idempotent-Replayed: true', async () => {
    const first = await issue('retry-1')
    expect(first.status).toBe(201)
    const licence = await first.json()
    const before = await snapshot(t)

    const again = await issue('retry-1')
    expect(again.status).toBe(200)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.headers.get('location')).toBe(`/v1/licences/${licence.id}`)
    const replayed = await again.json()
    expect(replayed).toEqual(licence)
    expect(await snapshot(t)).toEqual(before)
  })

  it('a retry that spells the same body in another member order is still the same request', async () => {
    const body = businessLicenceRequest({ holder: { ...businessLicenceRequest().holder, uscc: testUscc(5) } })
    const first = await (await issue('retry-order', body)).json()
    const reordered = Object.fromEntries(Object.entries({ ...body, fields: Object.fromEntries(Object.entries(body.fields).reverse()) }).reverse())
    const again = await issue('retry-order', reordered)
    expect(again.status).toBe(200)
    expect((await again.json()).id).toBe(first.id)
  })

  it('the same key with another body is 422 idempotency_key_reused and writes nothing', async () => {
    await issue('retry-2')
    const before = await snapshot(t)
    const response = await issue('retry-2', businessLicenceRequest({ validUntil: '2045-01-01' }))
    await expectProblem(response, 422, 'idempotency_key_reused')
    expect(await snapshot(t)).toEqual(before)
  })

  it('a key is not used up by a request that failed validation', async () => {
    await expectProblem(await issue('retry-3', businessLicenceRequest({ type: 'fishing-licence' })), 422, 'unknown_licence_type')
    expect(await t.db.query("SELECT * FROM idempotency_keys WHERE key = 'retry-3'")).toEqual([])
    expect((await issue('retry-3')).status).toBe(201)
  })

  it('the same body under different keys issues two licences', async () => {
    const a = await (await issue('distinct-a')).json()
    const b = await (await issue('distinct-b')).json()
    expect(a.id).not.toBe(b.id)
    expect(a.number).not.toBe(b.number)
  })

  it('keys are per endpoint: the key of an issuance does not replay a change', async () => {
    const licence = await (await issue('shared-key')).json()
    const changed = await t.request('POST', `/v1/licences/${licence.id}/change`, { json: { reason: '更名', holderName: '赣州通办数字科技有限公司' }, headers: { 'idempotency-key': 'shared-key' } })
    expect(changed.status).toBe(201)
    expect((await changed.json()).version).toBe(2)
  })

  it('five concurrent requests with one key create exactly one licence', async () => {
    const licences = await count('licences')
    const events = await count('licence_events')
    const responses = await Promise.all(Array.from({ length: 5 }, () => issue('concurrent-1')))
    const statuses = responses.map((r) => r.status).sort()
    expect(statuses).toEqual([200, 200, 200, 200, 201])
    const ids = new Set(await Promise.all(responses.map(async (r) => (await r.json()).id)))
    expect(ids.size).toBe(1)
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4)
    expect(await count('licences')).toBe(licences + 1)
    expect(await count('licence_events')).toBe(events + 1)
    expect(t.logged).toEqual([])
  })

  it('concurrent requests with the same key but different bodies: one wins, the others are refused', async () => {
    const bodies = [1, 2, 3, 4].map((n) => businessLicenceRequest({ holder: { ...businessLicenceRequest().holder, uscc: testUscc(100 + n) } }))
    const before = await count('licences')
    const responses = await Promise.all(bodies.map((body) => issue('concurrent-2', body)))
    expect(responses.map((r) => r.status).sort()).toEqual([201, 422, 422, 422])
    expect(await count('licences')).toBe(before + 1)
  })

  it('twenty concurrent issuances with their own keys get twenty distinct serials and status slots', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => issue(`parallel-${i}`)))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201))
    const licences = await Promise.all(responses.map((r) => r.json()))
    expect(new Set(licences.map((l) => l.number.split('.')[7])).size).toBe(20)
    const slots = await t.db.query<{ n: number; distinct_slots: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT revocation_list || ':' || revocation_index)::int AS distinct_slots FROM licences",
    )
    expect(slots[0]?.distinct_slots).toBe(slots[0]?.n)
    const [lists] = await t.db.query<{ used: number }>("SELECT used FROM status_lists WHERE id = 'r1'")
    expect(lists?.used).toBe(slots[0]?.n)
  })
})
