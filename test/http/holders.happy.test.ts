import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSENT_CODE_ALPHABET } from '../../src/core/holder/consent-code'
import { createTestApp, type TestApp } from '../support/app'
import { businessLicenceRequest } from '../support/fixtures'
import { consentRequest, licensedHolder, registeredBank } from '../support/holders'

/** A holder signs in with the bureau's credential, consents to a bank, the teller checks it, the holder sees the use. */
describe('holder and bank flow', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp()
  })
  afterAll(() => t.close())

  it('lists the holder’s own licences with status, and gives their PDF and credential', async () => {
    const { licence, credential } = await licensedHolder(t, 101)
    expect(credential).toMatch(/^tbh_[A-Za-z0-9_-]{43}$/)
    // Someone else's licence, which must not show up.
    await t.request('POST', '/v1/licences', { json: businessLicenceRequest() })

    const listed = await t.request('GET', '/v1/holder/licences', { token: credential })
    expect(listed.status).toBe(200)
    expect(listed.headers.get('cache-control')).toBe('no-store')
    const body = await listed.json()
    expect(body.holder).toMatchObject({ kind: 'enterprise', name: '赣州测试101有限公司' })
    expect(body.licences.map((l: { id: string }) => l.id)).toEqual([licence.id])
    expect(body.licences[0]).toMatchObject({ number: licence.number, status: 'active', links: { pdf: `/v1/holder/licences/${licence.id}/pdf` } })

    await t.request('POST', `/v1/licences/${licence.id}/suspend`, { json: { reason: '年报未报' } })
    const after = await (await t.request('GET', '/v1/holder/licences', { token: credential })).json()
    expect(after.licences[0]).toMatchObject({ status: 'suspended', statusReason: '年报未报' })

    const jws = await t.request('GET', `/v1/holder/licences/${licence.id}/credential`, { token: credential })
    expect(jws.headers.get('content-type')).toBe('application/vc+jwt')
    expect(await jws.text()).toBe(licence.credential)
    const pdf = await t.request('GET', `/v1/holder/licences/${licence.id}/pdf`, { token: credential })
    expect(pdf.status).toBe(200)
    expect(pdf.headers.get('content-type')).toBe('application/pdf')
    expect(new TextDecoder().decode((await pdf.arrayBuffer()).slice(0, 5))).toBe('%PDF-')
  })

  it('gives a bank only the consented fields, once, and shows the holder that use', async () => {
    const { licence, credential } = await licensedHolder(t, 102)
    const bank = await registeredBank(t)
    const listedBanks = await (await t.request('GET', '/v1/holder/relying-parties', { token: credential })).json()
    expect(listedBanks.relyingParties.map((b: { id: string }) => b.id)).toContain(bank.id)

    const created = await t.request('POST', '/v1/holder/consents', { token: credential, json: consentRequest(bank.id, licence.id) })
    expect(created.status).toBe(201)
    const consent = await created.json()
    expect(consent.code).toMatch(new RegExp(`^([${CONSENT_CODE_ALPHABET}]{4}-){2}[${CONSENT_CODE_ALPHABET}]{4}$`))
    expect(consent).toMatchObject({ state: 'active', maxUses: 1, uses: 0, purpose: '开户', relyingParty: { id: bank.id, branch: '赣州章贡支行' } })
    expect(consent.qr.text).toBe(`tongban-consent:${consent.code}`)
    expect(consent.qr.svg).toMatch(/^<svg/)
    const [row] = await t.db.query<{ code_hash: string }>('SELECT code_hash FROM consents WHERE id = $1', [consent.id])
    expect(row?.code_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(await t.db.query('SELECT * FROM consents'))).not.toContain(consent.code.replaceAll('-', ''))

    // The teller types the code as read aloud: lower case, spaces instead of dashes.
    const spoken = consent.code.toLowerCase().replaceAll('-', ' ')
    const checked = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: spoken } })
    expect(checked.status).toBe(200)
    const answer = await checked.json()
    expect(answer.consent).toMatchObject({ id: consent.id, uses: 1, state: 'used_up' })
    expect(answer.reports).toHaveLength(1)
    expect(answer.reports[0]).toMatchObject({ indication: 'TOTAL_PASSED', licence: { number: licence.number, holder: { name: '赣州测试102有限公司' } } })
    expect(answer.reports[0].licence.fields).toEqual({ legalRepresentative: '张三', registeredCapital: '伍佰万元整' })
    expect(answer.reports[0].issuer.regionCode).toBe('360700')

    const again = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })
    expect(again.status).toBe(410)
    expect((await again.json()).code).toBe('consent_used_up')

    const audited = await t.db.query<{ kind: string; detail: Record<string, unknown> }>("SELECT kind, detail FROM audit_entries WHERE kind LIKE 'bank_check%' ORDER BY seq")
    expect(audited.map((entry) => entry.kind)).toEqual(['bank_check', 'bank_check_refused'])
    expect(audited[0]?.detail).toMatchObject({ relyingParty: bank.id, consent: consent.id, purpose: '开户', licences: [licence.id], indications: ['TOTAL_PASSED'] })
    expect(audited[1]?.detail).toEqual({ relyingParty: bank.id, reason: 'consent_used_up' })

    const uses = await (await t.request('GET', '/v1/holder/uses', { token: credential })).json()
    expect(uses.uses).toHaveLength(1)
    expect(uses.uses[0]).toMatchObject({
      licence: { id: licence.id, number: licence.number, type: '营业执照' },
      by: { kind: 'bank', id: bank.id, name: '中国工商银行', branch: '赣州章贡支行' },
      purpose: '开户',
      consent: consent.id,
      indication: 'TOTAL_PASSED',
    })
  })

  it('takes the QR text a counter scanner types, and allows as many checks as the holder said', async () => {
    const { licence, credential } = await licensedHolder(t, 103)
    const bank = await registeredBank(t, '赣州开发区支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: credential, json: consentRequest(bank.id, licence.id, { maxUses: 2 }) })).json()
    const first = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.qr.text } })
    expect(first.status).toBe(200)
    expect((await first.json()).consent).toMatchObject({ uses: 1, maxUses: 2, state: 'active' })
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })).status).toBe(200)
    expect((await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })).status).toBe(410)
  })

  it('lets the holder see and withdraw consents; a withdrawn code stops working', async () => {
    const { licence, credential } = await licensedHolder(t, 104)
    const bank = await registeredBank(t, '赣州南康支行')
    const consent = await (await t.request('POST', '/v1/holder/consents', { token: credential, json: consentRequest(bank.id, licence.id, { expiresInMinutes: 2 * 24 * 60 }) })).json()
    const listed = await (await t.request('GET', '/v1/holder/consents', { token: credential })).json()
    expect(listed.consents).toHaveLength(1)
    expect(listed.consents[0]).toMatchObject({ id: consent.id, state: 'active', relyingParty: { name: '中国工商银行' } })
    expect(listed.consents[0].code).toBeUndefined()

    const withdrawn = await t.request('POST', `/v1/holder/consents/${consent.id}/withdraw`, { token: credential })
    expect(withdrawn.status).toBe(200)
    expect(await withdrawn.json()).toMatchObject({ id: consent.id, state: 'withdrawn' })
    const check = await t.request('POST', '/v1/bank/checks', { token: bank.credential, json: { code: consent.code } })
    expect(check.status).toBe(410)
    expect(await check.json()).toMatchObject({ code: 'consent_withdrawn' })
    expect((await (await t.request('GET', '/v1/holder/uses', { token: credential })).json()).uses).toEqual([])
  })
})
