import type { IssuerIdentity } from './credential'
import type { Licence } from './licence'
import type { LicenceType } from './licence-types'

/**
 * The payload of the QR code printed on a licence: a compact JWS by the same document signer
 * as the credential, small enough for a QR code a phone reads off paper. It names the licence
 * (number, type, holder, validity) and its status list entries, relative to the issuer's status
 * list base in its trust list, so it verifies offline and its status can be checked online.
 */
export const QR_TYP = 'tongban-qr+jwt'

export interface QrClaims {
  /** Issuing region (GB/T 2260). */
  iss: string
  /** Licence id. */
  jti: string
  num: string
  ver: number
  /** Type code and name. */
  tc: string
  tn: string
  /** Holder kind ('e' enterprise, 'p' person), its credit code or identity number, its name. */
  hk: 'e' | 'p'
  hid: string
  hn: string
  /** Validity (NumericDate seconds) and signing time. */
  nbf: number
  exp: number
  iat: number
  /** Status list entries as `listId:index`, revocation then suspension. */
  sr: string
  ss: string
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000)

export function buildQrClaims(licence: Licence, type: LicenceType, issuer: IssuerIdentity): QrClaims {
  const entry = (purpose: 'revocation' | 'suspension') => {
    const found = licence.statusEntries.find((e) => e.purpose === purpose)
    return found ? `${found.listId}:${found.index}` : ''
  }
  return {
    iss: issuer.regionCode,
    jti: licence.id,
    num: licence.number,
    ver: licence.version,
    tc: type.code,
    tn: type.name,
    hk: licence.holder.kind === 'enterprise' ? 'e' : 'p',
    hid: licence.holder.kind === 'enterprise' ? licence.holder.uscc : licence.holder.idNumber,
    hn: licence.holder.name,
    nbf: seconds(licence.validFrom),
    exp: seconds(licence.validUntil),
    iat: seconds(licence.issuedAt),
    sr: entry('revocation'),
    ss: entry('suspension'),
  }
}

/** The QR code's text: the verify page's address with the signed payload in the fragment, which browsers never send. */
export function qrText(issuerUrl: string, jws: string): string {
  return `${issuerUrl}/verify#qr=${jws}`
}

/** The JWS inside a scanned QR text: the text itself, or what follows `qr=` in a verify address. */
export function jwsOfQrText(text: string): string {
  const marker = text.lastIndexOf('qr=')
  return (marker >= 0 ? text.slice(marker + 3) : text).trim()
}
