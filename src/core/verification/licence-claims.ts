import { CREDENTIAL_TYPE, VC_CONTEXT } from '../licence/credential'
import type { QrClaims } from '../licence/qr-payload'

/**
 * What a signed licence says, read the same way from a credential (vc+jwt) and from a QR
 * payload, so that one set of checks serves both. Reading never judges: a payload that cannot
 * be read gives a problem for the `licence-credential` check to report.
 */
export interface LicenceClaims {
  id: string | null
  number: unknown
  version: number
  type: { key: string | null; code: string; name: string }
  holder: Record<string, unknown>
  fields: Record<string, unknown>
  validFrom: Date
  validUntil: Date
  signedAt: Date | undefined
  issuer: { regionCode: string; regionName: string; name: string; id: string }
  status: Array<{ purpose: string; url: string; index: number }>
}

export type ClaimsReading = { claims: LicenceClaims; problem?: undefined } | { claims?: undefined; problem: string }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const instant = (value: unknown): Date | undefined => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value) : undefined)
const fromSeconds = (value: unknown): Date | undefined => (typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000) : undefined)

function vcStatus(payload: Record<string, unknown>): LicenceClaims['status'] {
  const status = payload.credentialStatus
  const entries = Array.isArray(status) ? status : status === undefined ? [] : [status]
  return entries.flatMap((entry: unknown) => {
    if (!isRecord(entry)) return []
    const { statusPurpose, statusListCredential, statusListIndex } = entry
    const index = typeof statusListIndex === 'string' && /^\d{1,9}$/.test(statusListIndex) ? Number(statusListIndex) : NaN
    if (typeof statusPurpose !== 'string' || typeof statusListCredential !== 'string' || Number.isNaN(index)) return []
    return [{ purpose: statusPurpose, url: statusListCredential, index }]
  })
}

export function readCredentialClaims(p: Record<string, unknown>): ClaimsReading {
  const context = p['@context']
  if (!Array.isArray(context) || context[0] !== VC_CONTEXT) return { problem: `@context must start with ${VC_CONTEXT}` }
  if (!Array.isArray(p.type) || !p.type.includes('VerifiableCredential') || !p.type.includes(CREDENTIAL_TYPE)) return { problem: `type must include VerifiableCredential and ${CREDENTIAL_TYPE}` }
  const issuer = p.issuer
  if (!isRecord(issuer) || typeof issuer.regionCode !== 'string') return { problem: 'issuer is missing its regionCode' }
  const subject = p.credentialSubject
  if (!isRecord(subject) || !isRecord(subject.licence) || !isRecord(subject.holder)) return { problem: 'credentialSubject must hold holder and licence' }
  const validFrom = instant(p.validFrom)
  const validUntil = instant(p.validUntil)
  if (!validFrom || !validUntil) return { problem: 'validFrom and validUntil must be date-times' }
  const licence = subject.licence
  const type = isRecord(licence.type) ? licence.type : {}
  return {
    claims: {
      id: typeof p.id === 'string' ? p.id.replace(/^urn:uuid:/, '') : null,
      number: licence.number,
      version: typeof licence.version === 'number' ? licence.version : 0,
      type: { key: typeof type.key === 'string' ? type.key : null, code: String(type.code ?? ''), name: String(type.name ?? '') },
      holder: subject.holder,
      fields: isRecord(licence.fields) ? licence.fields : {},
      validFrom,
      validUntil,
      signedAt: fromSeconds(p.iat),
      issuer: { regionCode: issuer.regionCode, regionName: String(issuer.regionName ?? ''), name: String(issuer.name ?? ''), id: String(issuer.id ?? '') },
      status: vcStatus(p),
    },
  }
}

const QR_STRINGS = ['iss', 'jti', 'num', 'tc', 'tn', 'hid', 'hn', 'sr', 'ss'] as const

/** `statusListBase` is where the signer's region publishes status lists (from its trust list). */
export function readQrClaims(p: Record<string, unknown>, statusListBase: string | undefined): ClaimsReading {
  const missing = QR_STRINGS.filter((name) => typeof p[name] !== 'string')
  if (missing.length > 0) return { problem: `the QR payload lacks ${missing.join(', ')}` }
  const q = p as unknown as QrClaims
  if (q.hk !== 'e' && q.hk !== 'p') return { problem: 'hk must be e (enterprise) or p (person)' }
  const validFrom = fromSeconds(q.nbf)
  const validUntil = fromSeconds(q.exp)
  if (!validFrom || !validUntil) return { problem: 'nbf and exp must be NumericDates' }
  const status = (['sr', 'ss'] as const).flatMap((name) => {
    const match = /^([rs]\d{1,9}):(\d{1,9})$/.exec(q[name])
    if (!match || statusListBase === undefined) return []
    return [{ purpose: name === 'sr' ? 'revocation' : 'suspension', url: `${statusListBase}${match[1]}`, index: Number(match[2]) }]
  })
  return {
    claims: {
      id: q.jti,
      number: q.num,
      version: typeof q.ver === 'number' ? q.ver : 0,
      type: { key: null, code: q.tc, name: q.tn },
      holder: q.hk === 'e' ? { kind: 'enterprise', uscc: q.hid, name: q.hn } : { kind: 'person', idNumber: q.hid, name: q.hn },
      fields: {},
      validFrom,
      validUntil,
      signedAt: fromSeconds(q.iat),
      issuer: { regionCode: q.iss, regionName: '', name: '', id: '' },
      status,
    },
  }
}
