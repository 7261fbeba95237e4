/**
 * Licence numbers follow the electronic licence identifier of GB/T 36904-2018:
 *
 *   1.2.156.3005.2.{type code}.{issuer code}.{serial}.{version}.{check}
 *
 * type code: the defining authority's 18-character credit code plus 3 digits;
 * issuer code: the issuing bureau's credit code; serial: the region code and a 10-digit sequence;
 * version: 3 digits, raised by a change; check: ISO/IEC 7064 MOD 37,36 over the parts joined
 * without dots. See contracts/licence-number.md.
 */
export const LICENCE_NUMBER_PREFIX = '1.2.156.3005.2'
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** ISO/IEC 7064 hybrid system MOD 37,36 check character for an alphanumeric string. */
export function mod3736CheckCharacter(input: string): string {
  const m = 36
  let product = m
  for (const ch of input.toUpperCase()) {
    const value = ALPHANUMERIC.indexOf(ch)
    if (value < 0) throw new RangeError(`'${ch}' is not alphanumeric`)
    let sum = (product + value) % m
    if (sum === 0) sum = m
    product = (sum * 2) % (m + 1)
  }
  return ALPHANUMERIC[(m + 1 - product) % m] as string
}

export interface LicenceNumberParts {
  typeCode: string
  issuerCode: string
  serial: string
  version: number
}

export function formatSerial(regionCode: string, sequence: number): string {
  return regionCode + String(sequence).padStart(10, '0')
}

export function formatLicenceNumber(parts: LicenceNumberParts): string {
  const version = String(parts.version).padStart(3, '0')
  const body = [LICENCE_NUMBER_PREFIX, parts.typeCode, parts.issuerCode, parts.serial, version]
  const check = mod3736CheckCharacter(body.join('').replaceAll('.', ''))
  return `${body.join('.')}.${check}`
}

export function parseLicenceNumber(number: string): LicenceNumberParts | undefined {
  const match = /^1\.2\.156\.3005\.2\.([0-9A-Z]{18}\d{3})\.([0-9A-Z]{18})\.([0-9A-Z]{1,32})\.(\d{3})\.([0-9A-Z])$/.exec(number)
  if (!match) return undefined
  const [, typeCode, issuerCode, serial, version, check] = match as unknown as [string, string, string, string, string, string]
  const parts = { typeCode, issuerCode, serial, version: Number(version) }
  return formatLicenceNumber(parts).endsWith(`.${check}`) ? parts : undefined
}
