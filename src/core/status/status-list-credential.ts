import { CREDENTIAL_TYP, VC_CONTEXT, type IssuerIdentity } from '../licence/credential'

/** The payload of a BitstringStatusListCredential (W3C Bitstring Status List v1.0), secured as vc+jwt. */
export function buildStatusListCredential(input: {
  url: string
  purpose: 'revocation' | 'suspension'
  encodedList: string
  issuer: IssuerIdentity
  now: Date
  ttlSeconds: number
}) {
  return {
    '@context': [VC_CONTEXT],
    id: input.url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: { id: input.issuer.url, name: input.issuer.name, regionCode: input.issuer.regionCode },
    validFrom: input.now.toISOString(),
    validUntil: new Date(input.now.getTime() + input.ttlSeconds * 1000).toISOString(),
    credentialSubject: {
      id: `${input.url}#list`,
      type: 'BitstringStatusList',
      statusPurpose: input.purpose,
      ttl: input.ttlSeconds * 1000,
      encodedList: input.encodedList,
    },
    iat: Math.floor(input.now.getTime() / 1000),
  }
}

export const STATUS_LIST_TYP = CREDENTIAL_TYP
