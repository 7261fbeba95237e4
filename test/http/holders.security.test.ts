import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BANK_FAILURE_LIMIT, CODE_FAILURE_LIMIT } from '../../src/core/holder/bank-check'
import { newConsentCode } from '../../src/core/holder/consent-code'
import { createTestApp, ADMIN_TOKEN, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/** Holders, banks and attackers: each sees only its own, guessing is stopped, refusals say nothing about the licence. */
describe('holder and bank endpoints refuse other people and guessers', () => {
  let t: TestApp
  let now = new Date()
  const problem = async (response: Response, status: number, code: string) => {
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const body = await response.json()
    expect({ status: response.status, code: body.code }).toEqual({ status, code })
    return body
  }
  const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n
  const check = (bank: { credential: string }, code: string) => t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code } })

  beforeAll(async () => {
    t = await createTestApp({ clock: { now: () => now } })
  })
  afterAll(() => t.close())

  it('keeps a holder to their own licences: another holder’s are not found, unknown or revoked credentials are refused', async () => {
    const alice = await licensedHolder(t, 201)
    const bob = await licensedHolder(t, 202)
    const bobsView = await (await t.request('GET', '/v1/holder/licences', { token: bob.credential })).json()
    expect(bobsView.licences.map((l: { id: string }) => l.id)).toEqual([bob.licence.id])
    await problem(await t.request('GET', `/v1/holder/licences/${alice.licence.id}/pdf`, { token: bob.credential }), 404, 'licence_not_found')
    await problem(await t.request('GET', `/v1/holder/licences/${alice.licence.id}/credential`, { token: bob.credential }), 404, 'licence_not_found')
    const bank = await registeredBank(t, '越权测试支行')
    await problem(await t.request('POST', '/v1/holder/consents', { token: bob.credential, json: consentRequest(bank.id, alice.licence.id) }), 404, 'licence_not_found')

    for (const token of [null, ADMIN_TOKEN, bank.credential, `tbh_${'A'.repeat(43)}`, 'tbh_']) {
      await problem(await t.request('GET', '/v1/holder/licences', { token }), 401, 'unauthorized')
    }
    const bobs = await (await t.request('GET', `/v1/admin/holder-credentials?uscc=${bob.holder.uscc}`)).json()
    expect(bobs.credentials).toEqual([expect.objectContaining({ id: bob.credentialId, label: '手机', revokedAt: null })])
    expect(JSON.stringify(bobs)).not.toContain(bob.credential)
    expect((await t.request('GET', `/v1/admin/holder-credentials?uscc=${bob.holder.uscc}`, { token: bob.credential })).status).toBe(401)
    expect((await t.request('POST', `/v1/admin/holder-credentials/${bob.credentialId}/revoke`, {})).status).toBe(200)
    expect((await (await t.request('GET', `/v1/admin/holder-credentials?uscc=${bob.holder.uscc}`)).json()).credentials[0].revokedAt).not.toBeNull()
    await problem(await t.request('GET', '/v1/holder/licences', { token: bob.credential }), 401, 'unauthorized')
    await problem(await t.request('POST', '/v1/admin/holder-credentials', { token: alice.credential, json: { holder: bob.holder } }), 401, 'unauthorized')
    await problem(await t.request('POST', '/v1/admin/holder-credentials', { json: { holder: { ...bob.holder, uscc: '91360702MA0000001X' } } }), 422, 'invalid_uscc')
  })

  it('keeps a holder to their own consents and uses: another holder’s are neither listed nor withdrawable', async () => {
    const alice = await licensedHolder(t, 210)
    const bob = await licensedHolder(t, 211)
    const bank = await registeredBank(t, '隔离测试支行')
    const alices = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id, { maxUses: 2 }) })).json()
    expect((await check(bank, alices.code)).status).toBe(200)

    await problem(await t.request('POST', `/v1/holder/consents/${alices.id}/withdraw`, { token: bob.credential }), 404, 'consent_not_found')
    expect(await (await t.request('GET', '/v1/holder/consents', { token: bob.credential })).json()).toEqual({ consents: [] })
    expect(await (await t.request('GET', '/v1/holder/uses', { token: bob.credential })).json()).toEqual({ uses: [] })
    const still = (await (await t.request('GET', '/v1/holder/consents', { token: alice.credential })).json()).consents
    expect(still.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([[alices.id, 'active']])
    expect((await (await t.request('GET', '/v1/holder/uses', { token: alice.credential })).json()).uses).toHaveLength(1)
  })

  it('never lets a consent grant more than the bank is registered for, and stores nothing then', async () => {
    const alice = await licensedHolder(t, 203)
    const bank = await registeredBank(t, '范围测试支行', { 'business-licence': ['legalRepresentative'] })
    const create = (overrides: Record<string, unknown>) => t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id, overrides) })
    const before = await count('consents')
    const wide = await problem(await create({ fields: ['legalRepresentative', 'registeredCapital'] }), 422, 'outside_relying_party_scope')
    expect(wide.errors).toEqual([expect.objectContaining({ pointer: '/fields/1' })])
    await problem(await create({ fields: ['legalRepresentative'], purpose: '贷款' }), 422, 'outside_relying_party_scope')
    await problem(await create({ fields: ['favouriteColour'] }), 422, 'unknown_field')
    await problem(await create({ fields: ['registeredCapital'], purpose: '贷款' }), 422, 'invalid_consent_request')
    await problem(await create({ relyingParty: '00000000-0000-4000-8000-000000000000' }), 422, 'unknown_relying_party')
    await problem(await create({ expiresInMinutes: 0 }), 400, 'invalid_request')
    await problem(await create({ expiresInMinutes: 31 * 24 * 60 }), 400, 'invalid_request')
    await problem(await create({ maxUses: 0 }), 400, 'invalid_request')
    await problem(await create({ extra: true }), 400, 'invalid_request')
    expect(await count('consents')).toBe(before)
    await problem(await t.request('POST', '/v1/admin/relying-parties', { json: { name: '某银行', branch: '某支行', purposes: ['开户'], mayRequest: { 'business-licence': ['secretField'] } } }), 422, 'invalid_relying_party')
  })

  it('shows a bank only the consented fields and never the credential', async () => {
    const alice = await licensedHolder(t, 204)
    const bank = await registeredBank(t, '披露测试支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id, { fields: ['address'] }) })).json()
    const answer = await (await check(bank, consent.code)).json()
    expect(answer.reports[0].licence.fields).toEqual({ address: '江西省赣州市章贡区长征大道1号' })
    expect(JSON.stringify(answer)).not.toContain('张三')
    expect(JSON.stringify(answer)).not.toContain(alice.licence.credential)
  })

  it('masks a person’s identity number everywhere in the bank’s answer unless the consent names holder.idNumber', async () => {
    const idNumber = '11010519491231002X'
    const person = { kind: 'person', idNumber, name: '王五' }
    const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder: person }) })).json()
    const { credential } = await (await t.request('POST', '/v1/admin/holder-credentials', { json: { holder: person } })).json()
    const bank = await registeredBank(t, '个体户测试支行', { 'business-licence': ['legalRepresentative', 'holder.idNumber'] })
    const give = async (fields: string[]) => (await t.request('POST', '/v1/holder/consents', { token: credential, json: consentRequest(bank.id, licence.id, { fields }) })).json()

    const masked = await (await check(bank, (await give(['legalRepresentative'])).code)).json()
    expect(masked.reports[0].licence.holder).toEqual({ kind: 'person', name: '王五', idNumber: '1****************X' })
    expect(JSON.stringify(masked)).not.toContain(idNumber)
    expect(JSON.stringify(masked)).not.toContain(idNumber.slice(0, 17))

    const shown = await (await check(bank, (await give(['holder.idNumber'])).code)).json()
    expect(shown.reports[0].licence.holder.idNumber).toBe(idNumber)
    expect(shown.reports[0].licence.fields).toEqual({})
  })

  it('answers another bank’s code as not found, and says nothing about the licence in any refusal', async () => {
    const alice = await licensedHolder(t, 205, '秘密测试有限公司')
    const mine = await registeredBank(t, '本行支行')
    const other = await registeredBank(t, '他行支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(mine.id, alice.licence.id) })).json()
    const refused = await problem(await check(other, consent.code), 404, 'consent_not_found')
    const unknown = await problem(await check(other, newConsentCode()), 404, 'consent_not_found')
    expect(refused.detail).toBe(unknown.detail)
    for (const body of [refused, unknown]) expect(JSON.stringify(body)).not.toMatch(/秘密|张三|91360702|licence_id|1\.2\.156/)
    // The other bank's try did not use the consent up.
    expect((await check(mine, consent.code)).status).toBe(200)
    await problem(await check({ credential: ADMIN_TOKEN }, consent.code), 401, 'unauthorized')
    await problem(await check({ credential: alice.credential }, consent.code), 401, 'unauthorized')
  })

  it('refuses expired codes as expired to their bank, and a revoked bank altogether', async () => {
    const alice = await licensedHolder(t, 206)
    const bank = await registeredBank(t, '过期测试支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id, { expiresInMinutes: 5 }) })).json()
    now = new Date(now.getTime() + 5 * 60_000)
    await problem(await check(bank, consent.code), 410, 'consent_expired')
    expect((await (await t.request('GET', '/v1/holder/consents', { token: alice.credential })).json()).consents[0].state).toBe('expired')
    const fresh = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id) })).json()
    expect((await t.request('POST', `/v1/admin/relying-parties/${bank.id}/revoke`, {})).status).toBe(200)
    await problem(await check(bank, fresh.code), 401, 'unauthorized')
    await problem(await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id) }), 422, 'unknown_relying_party')
  })

  it('stops a bank guessing codes: after the failure limit even the right code is refused until the window passes', async () => {
    const alice = await licensedHolder(t, 207)
    const bank = await registeredBank(t, '暴力测试支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id, { expiresInMinutes: 60 }) })).json()
    for (let i = 0; i < BANK_FAILURE_LIMIT; i++) await problem(await check(bank, newConsentCode()), 404, 'consent_not_found')
    const limited = await check(bank, consent.code)
    await problem(limited, 429, 'too_many_attempts')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60)
    // Another bank is not held back by this one's failures.
    const neighbour = await registeredBank(t, '隔壁支行')
    await problem(await check(neighbour, newConsentCode()), 404, 'consent_not_found')
    now = new Date(now.getTime() + 15 * 60_000 + 1000)
    expect((await check(bank, consent.code)).status).toBe(200)
  })

  it('stops one code being tried over and over, across banks', async () => {
    const code = newConsentCode()
    const banks = await Promise.all(Array.from({ length: CODE_FAILURE_LIMIT + 1 }, (_, i) => registeredBank(t, `同码测试${i}支行`)))
    for (const bank of banks.slice(0, CODE_FAILURE_LIMIT)) await problem(await check(bank, code), 404, 'consent_not_found')
    await problem(await check(banks[CODE_FAILURE_LIMIT] as { credential: string }, code), 429, 'too_many_attempts')
  })

  it('cannot be raced: concurrent guesses stop at the limits, per bank and per code, and a single-use code answers once', async () => {
    const guesser = await registeredBank(t, '并发猜测支行')
    const statuses = await Promise.all(Array.from({ length: BANK_FAILURE_LIMIT + 6 }, async () => (await check(guesser, newConsentCode())).status))
    expect(statuses.filter((s) => s === 404)).toHaveLength(BANK_FAILURE_LIMIT)
    expect(statuses.filter((s) => s === 429)).toHaveLength(6)

    // Many banks at once on one code: the per-code limit holds across banks too.
    const code = newConsentCode()
    const banks = await Promise.all(Array.from({ length: CODE_FAILURE_LIMIT + 7 }, (_, i) => registeredBank(t, `并发同码${i}支行`)))
    const byCode = await Promise.all(banks.map(async (bank) => (await check(bank, code)).status))
    expect(byCode.filter((s) => s === 404)).toHaveLength(CODE_FAILURE_LIMIT)
    expect(byCode.filter((s) => s === 429)).toHaveLength(7)

    const alice = await licensedHolder(t, 209)
    const bank = await registeredBank(t, '并发使用支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, alice.licence.id) })).json()
    const answers = await Promise.all(Array.from({ length: 5 }, async () => (await check(bank, consent.code)).status))
    expect(answers.sort()).toEqual([200, 410, 410, 410, 410])
    expect(await t.db.query('SELECT uses FROM consents WHERE id = $1', [consent.id])).toEqual([{ uses: 1 }])
    expect(await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM licence_uses WHERE consent_id = $1', [consent.id])).toEqual([{ n: 1 }])
  })

  it('never answers a malformed request with a 500', async () => {
    const bank = await registeredBank(t, '格式测试支行')
    const alice = await licensedHolder(t, 208)
    await problem(await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: {} }), 400, 'invalid_request')
    await problem(await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: 'x'.repeat(201) } }), 400, 'invalid_request')
    await problem(await t.request('POST', '/v1/bank/checks', { token: bank.credential, body: '{', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json')
    await problem(await check(bank, "' OR 1=1 --"), 404, 'consent_not_found')
    await problem(await t.request('POST', '/v1/holder/consents/not-a-uuid/withdraw', { token: alice.credential }), 404, 'consent_not_found')
    await problem(await t.request('GET', '/v1/holder/licences/not-a-uuid/pdf', { token: alice.credential }), 404, 'licence_not_found')
    await problem(await t.request('POST', '/v1/holder/consents', { token: alice.credential, json: consentRequest(bank.id, 'not-a-uuid') }), 404, 'licence_not_found')
    await problem(await t.request('POST', '/v1/admin/holder-credentials/not-a-uuid/revoke', {}), 404, 'holder_credential_not_found')
  })
})
