import { businessLicenceRequest } from '../test/support/fixtures'
import { countOf, fmt, isMain, log, ratioOf, type BenchResult } from './support/measure'
import { startService, type Service } from './support/service'

/**
 * POST /v1/bank/checks against plain POST /v1/verify of the same licence, in the same run, by the
 * same fetch loops (one per bank branch, CONNECTIONS in flight). A bank check verifies the same
 * credential and then writes: it locks the branch's row, counts its recent failures, locks the
 * consent, records the use for the holder, counts the consent's use and appends to the audit log
 * (whose hash chain takes one append at a time) in one transaction. The ratio says what that
 * record-keeping costs; no target, since a counter checks a few codes a minute, not hundreds a second.
 */
const CONNECTIONS = 8
const ROUNDS = 3
const ROUND_MS = 2000
const USES_PER_CONSENT = 100
const CONSENTS_PER_BANK = 30

async function call(service: Service, path: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function json<T>(response: Response, expected: number): Promise<T> {
  if (response.status !== expected) throw new Error(`${response.url} answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as T
}

/** A licence, its holder's credential, CONNECTIONS banks, and for each a pool of consent codes. */
async function prepare(service: Service) {
  const request = businessLicenceRequest()
  const licence = await json<{ id: string; credential: string }>(await call(service, '/v1/licences', service.adminToken, request), 201)
  const { credential: holder } = await json<{ credential: string }>(await call(service, '/v1/admin/holder-credentials', service.adminToken, { holder: request.holder }), 201)
  const banks = []
  for (let b = 0; b < CONNECTIONS; b++) {
    const bank = await json<{ id: string; credential: string }>(
      await call(service, '/v1/admin/relying-parties', service.adminToken, { name: '压测银行', branch: `第${b + 1}支行`, purposes: ['开户'], mayRequest: { 'business-licence': ['legalRepresentative', 'registeredCapital'] } }),
      201,
    )
    const codes: string[] = []
    for (let i = 0; i < CONSENTS_PER_BANK; i++) {
      const consent = await json<{ code: string }>(
        await call(service, '/v1/holder/consents', holder, { relyingParty: bank.id, licences: [licence.id], purpose: '开户', fields: ['legalRepresentative'], expiresInMinutes: 60, maxUses: USES_PER_CONSENT }),
        201,
      )
      codes.push(consent.code)
    }
    banks.push({ credential: bank.credential, codes, used: 0 })
  }
  return { licence, banks }
}

export async function benchBankCheck(given?: Service): Promise<BenchResult> {
  log(`bank-check: ${CONNECTIONS} bank branches, one fetch loop each`)
  const service = given ?? (await startService())
  try {
    const { licence, banks } = await prepare(service)
    const verify = async () => {
      const report = await json<{ indication: string }>(await call(service, '/v1/verify', 'none', { credential: licence.credential }), 200)
      if (report.indication !== 'TOTAL_PASSED') throw new Error(`verify answered ${report.indication}`)
    }
    // Calls take the branches in turn, so about one check per branch is in flight at a time.
    let turn = 0
    const check = async () => {
      const bank = banks[turn++ % CONNECTIONS] as (typeof banks)[number]
      const code = bank.codes[Math.floor(bank.used++ / USES_PER_CONSENT)]
      if (!code) throw new Error('the consent pool ran dry: raise CONSENTS_PER_BANK')
      const answer = await json<{ reports: Array<{ indication: string; licence: { fields: Record<string, unknown> } }> }>(await call(service, '/v1/bank/checks', bank.credential, { code }), 200)
      if (answer.reports[0]?.indication !== 'TOTAL_PASSED' || Object.keys(answer.reports[0].licence.fields).join() !== 'legalRepresentative') throw new Error('a bank check did not answer the consented report')
    }
    await countOf(500, CONNECTIONS, verify)
    await countOf(500, CONNECTIONS, check)
    const checks = { ops: 0, seconds: 0 }
    const verifies = { ops: 0, seconds: 0 }
    const rounds: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const c = await countOf(ROUND_MS, CONNECTIONS, check)
      const v = await countOf(ROUND_MS, CONNECTIONS, verify)
      checks.ops += c.ops
      checks.seconds += c.seconds
      verifies.ops += v.ops
      verifies.seconds += v.seconds
      rounds.push(`${(c.ops / c.seconds / (v.ops / v.seconds)).toFixed(2)} (${fmt(c.ops / c.seconds)}/${fmt(v.ops / v.seconds)})`)
    }
    const result: BenchResult = {
      name: 'bank-check',
      rate: checks.ops / checks.seconds,
      unit: 'req/s',
      ceilingName: `POST /v1/verify of the same licence, ${CONNECTIONS} in flight`,
      ceiling: verifies.ops / verifies.seconds,
    }
    log(`bank-check: ratio per round (checks/verify): ${rounds.join(', ')}`)
    log(`bank-check: ${fmt(result.rate)} checks/s, verify ${fmt(result.ceiling)} req/s, ratio ${ratioOf(result).toFixed(2)}`)
    return result
  } finally {
    if (!given) {
      await service.stop()
      await service.removeData()
    }
  }
}

if (isMain(import.meta.url)) await benchBankCheck()
