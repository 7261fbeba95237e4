import { Validator } from '@cfworker/json-schema'
import schema from '../../../contracts/agreements/agreement.schema.json'
import { findMatter } from '../application/matters'
import type { ProblemDetail } from '../errors'
import { findLicenceType } from '../licence/licence-types'
import { schemaProblems } from '../schema-problems'

/**
 * A cooperation agreement (合作协议) between two regions: the terms both sign
 * (contracts/agreements/). It is in force only with both regions' valid signatures, inside its
 * window, and until either side terminates it.
 */
export interface AgreementTerms {
  type: 'tongban-agreement'
  id: string
  title: string
  regions: [{ code: string; name: string }, { code: string; name: string }]
  validFrom: string
  validUntil: string
  rateLimit: { requests: number; perSeconds: number }
  grants: Array<{ by: string; to: string; verify: Array<{ licenceType: string; fields: string[] }>; acceptMatters: string[] }>
}

/** The signed form: JWS general JSON serialization (RFC 7515 §7.2.1), one signature per region. */
export interface GeneralJws {
  payload: string
  signatures: Array<{ protected: string; signature: string }>
}

export interface Termination {
  by: string
  at: string
  reason: string
  /** Compact JWS by the terminating region's partner-auth key. */
  jws: string
}

export interface Agreement {
  terms: AgreementTerms
  partner: { code: string; name: string }
  jws: GeneralJws
  /** Regions whose signature on the terms was checked with their partner-auth key. */
  signedBy: string[]
  termination: Termination | null
  /** Whether the partner holds what this region holds (both signatures, the termination). */
  delivered: boolean
  createdAt: Date
  updatedAt: Date
}

export type AgreementStatus = 'awaiting_partner' | 'awaiting_us' | 'not_yet_valid' | 'active' | 'expired' | 'terminated'

export function agreementStatus(agreement: Agreement, ownRegion: string, at: Date): AgreementStatus {
  if (agreement.termination) return 'terminated'
  if (!agreement.signedBy.includes(ownRegion)) return 'awaiting_us'
  if (!agreement.signedBy.includes(agreement.partner.code)) return 'awaiting_partner'
  if (at < new Date(agreement.terms.validFrom)) return 'not_yet_valid'
  if (at >= new Date(agreement.terms.validUntil)) return 'expired'
  return 'active'
}

const validator = new Validator(schema as never, '2020-12', false)

/**
 * Every problem with proposed terms, for this region: the schema, then what the schema cannot
 * say (this region is one of the two, each direction once, known licence types, fields and
 * matters of the catalogue every deployment carries).
 */
export function termsProblems(terms: unknown, ownRegion: string): ProblemDetail[] {
  const problems = schemaProblems(validator, terms, '', 'not a member of an agreement')
  if (problems.length > 0) return problems
  const t = terms as AgreementTerms
  const codes = t.regions.map((region) => region.code)
  if (codes[0] === codes[1]) problems.push({ pointer: '/regions/1/code', message: 'the two regions must differ' })
  if (!codes.includes(ownRegion)) problems.push({ pointer: '/regions', message: `this region (${ownRegion}) is not one of the two` })
  const from = Date.parse(t.validFrom)
  const until = Date.parse(t.validUntil)
  if (Number.isNaN(from)) problems.push({ pointer: '/validFrom', message: 'not a date-time' })
  if (Number.isNaN(until)) problems.push({ pointer: '/validUntil', message: 'not a date-time' })
  if (!Number.isNaN(from) && !Number.isNaN(until) && until <= from) problems.push({ pointer: '/validUntil', message: 'must be after validFrom' })
  const directions = new Set<string>()
  t.grants.forEach((grant, g) => {
    const at = `/grants/${g}`
    if (!codes.includes(grant.by)) problems.push({ pointer: `${at}/by`, message: 'not one of the two regions' })
    if (!codes.includes(grant.to) || grant.to === grant.by) problems.push({ pointer: `${at}/to`, message: 'must be the other region' })
    const direction = `${grant.by}>${grant.to}`
    if (directions.has(direction)) problems.push({ pointer: at, message: `a second grant by ${grant.by} to ${grant.to}` })
    directions.add(direction)
    const types = new Set<string>()
    grant.verify.forEach((entry, v) => {
      const type = findLicenceType(entry.licenceType)
      if (!type || type.key !== entry.licenceType) return void problems.push({ pointer: `${at}/verify/${v}/licenceType`, message: `no licence type ${entry.licenceType} in contracts/licence-types/` })
      if (types.has(type.key)) problems.push({ pointer: `${at}/verify/${v}/licenceType`, message: `${type.key} is listed twice` })
      types.add(type.key)
      entry.fields.forEach((field, f) => {
        if (!(field in type.fieldLabels)) problems.push({ pointer: `${at}/verify/${v}/fields/${f}`, message: `not a field of ${type.name}` })
      })
    })
    grant.acceptMatters.forEach((code, m) => {
      if (!findMatter(code)) problems.push({ pointer: `${at}/acceptMatters/${m}`, message: `no matter ${code} in contracts/matters/` })
    })
  })
  return problems
}

function grantOf(terms: AgreementTerms, by: string, to: string) {
  return terms.grants.find((grant) => grant.by === by && grant.to === to)
}

/** The fields of a licence type of `by` that `to` may be shown, or undefined when it may not verify that type. */
export function disclosedFields(terms: AgreementTerms, by: string, to: string, licenceType: string): string[] | undefined {
  return grantOf(terms, by, to)?.verify.find((entry) => entry.licenceType === licenceType)?.fields
}

/** The matters of `by` that `to` may accept on its behalf. */
export function acceptableMatters(terms: AgreementTerms, by: string, to: string): string[] {
  return grantOf(terms, by, to)?.acceptMatters ?? []
}
