import type { LicenceType } from './licence-types'
import type { Holder, Licence } from './licence'

/**
 * The licence credential: a W3C Verifiable Credential 2.0 secured with JOSE (VC-JOSE-COSE):
 * the JWS payload is the credential itself, `typ` is `vc+jwt`. `jti` and `iat` are added as
 * JWT claims so that each credential has a unique id and a signing time.
 */
export const VC_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
export const CREDENTIAL_TYPE = 'LicenceCredential'
export const CREDENTIAL_TYP = 'vc+jwt'

export interface IssuerIdentity {
  regionCode: string
  regionName: string
  name: string
  uscc: string
  url: string
}

export interface LicenceCredential {
  '@context': string[]
  id: string
  type: string[]
  issuer: { id: string; name: string; regionCode: string; regionName: string; uscc: string }
  validFrom: string
  validUntil: string
  credentialSubject: {
    id: string
    holder: Holder
    licence: { number: string; version: number; type: { key: string; code: string; name: string }; fields: Record<string, unknown> }
  }
  credentialStatus: BitstringStatusListEntry[]
  jti: string
  iat: number
}

export interface BitstringStatusListEntry {
  id: string
  type: 'BitstringStatusListEntry'
  statusPurpose: 'revocation' | 'suspension'
  statusListIndex: string
  statusListCredential: string
}

export function statusListUrl(issuerUrl: string, listId: string): string {
  return `${issuerUrl}/v1/status/${listId}`
}

export function subjectId(holder: Holder): string {
  return holder.kind === 'enterprise' ? `urn:uscc:${holder.uscc}` : `urn:cn-id:${holder.idNumber}`
}

export function buildLicenceCredential(
  licence: Omit<Licence, 'credential'>,
  type: LicenceType,
  issuer: IssuerIdentity,
): LicenceCredential {
  return {
    '@context': [VC_CONTEXT],
    id: `urn:uuid:${licence.id}`,
    type: ['VerifiableCredential', CREDENTIAL_TYPE],
    issuer: { id: issuer.url, name: issuer.name, regionCode: issuer.regionCode, regionName: issuer.regionName, uscc: issuer.uscc },
    validFrom: licence.validFrom.toISOString(),
    validUntil: licence.validUntil.toISOString(),
    credentialSubject: {
      id: subjectId(licence.holder),
      holder: licence.holder,
      licence: {
        number: licence.number,
        version: licence.version,
        type: { key: type.key, code: type.code, name: type.name },
        fields: licence.fields,
      },
    },
    credentialStatus: licence.statusEntries.map((entry) => ({
      id: `${statusListUrl(issuer.url, entry.listId)}#${entry.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: entry.purpose,
      statusListIndex: String(entry.index),
      statusListCredential: statusListUrl(issuer.url, entry.listId),
    })),
    jti: `urn:uuid:${licence.id}`,
    iat: Math.floor(licence.issuedAt.getTime() / 1000),
  }
}
