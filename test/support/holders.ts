import type { TestApp } from './app'
import { businessLicenceRequest, testUscc } from './fixtures'

/** Business licence fields a bank counter typically asks for at account opening. */
export const BANK_FIELDS = ['entityType', 'legalRepresentative', 'registeredCapital', 'address']

/** Issues a business licence to the n-th test enterprise and gives that enterprise a holder credential. */
export async function licensedHolder(t: TestApp, n: number, name = `赣州测试${n}有限公司`) {
  const holder = { kind: 'enterprise', uscc: testUscc(n), name }
  const licence = await (await t.request('POST', '/v1/licences', { json: businessLicenceRequest({ holder }) })).json()
  const issued = await (await t.request('POST', '/v1/admin/holder-credentials', { json: { holder, label: '手机' } })).json()
  return { holder, licence, credential: issued.credential as string, credentialId: issued.id as string }
}

/** Registers a bank service point allowed account opening with BANK_FIELDS of business licences. */
export async function registeredBank(t: TestApp, branch = '赣州章贡支行', mayRequest: Record<string, string[]> = { 'business-licence': BANK_FIELDS }) {
  const response = await t.request('POST', '/v1/admin/relying-parties', { json: { name: '中国工商银行', branch, purposes: ['开户'], mayRequest } })
  const bank = await response.json()
  return { id: bank.id as string, credential: bank.credential as string, name: bank.name as string, branch: bank.branch as string }
}

export function consentRequest(bank: string, licence: string, overrides: Record<string, unknown> = {}) {
  return { relyingParty: bank, licences: [licence], purpose: '开户', fields: ['legalRepresentative', 'registeredCapital'], expiresInMinutes: 30, ...overrides }
}
