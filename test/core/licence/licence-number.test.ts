import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatLicenceNumber, formatSerial, LICENCE_NUMBER_PREFIX, mod3736CheckCharacter, parseLicenceNumber, type LicenceNumberParts } from '../../../src/core/licence/licence-number'
import { withUsccCheck } from '../../../src/core/licence/uscc'

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/**
 * ISO/IEC 7064 MOD 37,36 written the other way round, after python-stdnum's
 * stdnum/iso7064/mod_37_36.py: a string with its check character appended has checksum 1.
 */
function referenceChecksum(input: string): number {
  const modulus = 36
  let check = modulus / 2
  for (const ch of input) check = ((((check || modulus) * 2) % (modulus + 1)) + ALPHANUMERIC.indexOf(ch)) % modulus
  return check
}

const alnum = fc.constantFrom(...ALPHANUMERIC)
const alnumString = (min: number, max: number) => fc.string({ unit: alnum, minLength: min, maxLength: max })
const usccChar = fc.constantFrom(...'0123456789ABCDEFGHJKLMNPQRTUWXY')
const usccBody = fc
  .tuple(fc.string({ unit: usccChar, minLength: 2, maxLength: 2 }), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 6, maxLength: 6 }), fc.string({ unit: usccChar, minLength: 9, maxLength: 9 }))
  .map((parts) => withUsccCheck(parts.join('')))

const parts: fc.Arbitrary<LicenceNumberParts> = fc.record({
  typeCode: fc.tuple(usccBody, fc.integer({ min: 0, max: 999 })).map(([uscc, n]) => uscc + String(n).padStart(3, '0')),
  issuerCode: usccBody,
  serial: alnumString(1, 32),
  version: fc.integer({ min: 1, max: 999 }),
})

describe('ISO/IEC 7064 MOD 37,36', () => {
  it("gives python-stdnum's vector: 'A12425GABC1234002' → 'M'", () => {
    expect(mod3736CheckCharacter('A12425GABC1234002')).toBe('M')
    expect(referenceChecksum('A12425GABC1234002M')).toBe(1)
  })

  it('reads lower case as upper case and refuses anything but letters and digits', () => {
    expect(mod3736CheckCharacter('a12425gabc1234002')).toBe('M')
    expect(() => mod3736CheckCharacter('A1-2')).toThrow(RangeError)
    expect(() => mod3736CheckCharacter('A.1')).toThrow(RangeError)
  })

  it('agrees with the reference checksum on every input (property)', () => {
    fc.assert(
      fc.property(alnumString(0, 80), (input) => {
        expect(referenceChecksum(input + mod3736CheckCharacter(input))).toBe(1)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('GB/T 36904 licence numbers', () => {
  it('formats the serial as the region code and a ten-digit sequence', () => {
    expect(formatSerial('360700', 1)).toBe('3607000000000001')
    expect(formatSerial('440307', 1234567890)).toBe('4403071234567890')
  })

  it('formats a known number (the one the happy-path test sees) with its check character', () => {
    const number = formatLicenceNumber({ typeCode: '11100000000013338W001', issuerCode: '11360700MB00000015', serial: '3607000000000001', version: 1 })
    expect(number).toBe('1.2.156.3005.2.11100000000013338W001.11360700MB00000015.3607000000000001.001.V')
    expect(number.startsWith(`${LICENCE_NUMBER_PREFIX}.`)).toBe(true)
    expect(referenceChecksum(number.replaceAll('.', ''))).toBe(1)
  })

  it('parses what it formats (property)', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const number = formatLicenceNumber(p)
        expect(parseLicenceNumber(number)).toEqual(p)
        expect(referenceChecksum(number.replaceAll('.', ''))).toBe(1)
      }),
      { numRuns: 2000 },
    )
  })

  it('a change of version changes the number and its check character stays right', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: 1, max: 999 }), (p, version) => {
        fc.pre(version !== p.version)
        const other = formatLicenceNumber({ ...p, version })
        expect(other).not.toBe(formatLicenceNumber(p))
        expect(parseLicenceNumber(other)?.version).toBe(version)
      }),
    )
  })

  it('detects every single-character corruption anywhere in the number (property)', () => {
    const anyCharacter = fc.constantFrom(...`${ALPHANUMERIC}.-abcz `)
    fc.assert(
      fc.property(parts, fc.nat(200), anyCharacter, (p, at, replacement) => {
        const number = formatLicenceNumber(p)
        const position = at % number.length
        fc.pre(number[position] !== replacement)
        const corrupted = `${number.slice(0, position)}${replacement}${number.slice(position + 1)}`
        expect({ corrupted, parsed: parseLicenceNumber(corrupted) }).toEqual({ corrupted, parsed: undefined })
      }),
      { numRuns: 10_000 },
    )
  })

  it('refuses numbers of the wrong shape', () => {
    const good = formatLicenceNumber({ typeCode: '11100000000013338W001', issuerCode: '11360700MB00000015', serial: '3607000000000001', version: 1 })
    for (const bad of [
      '',
      good.slice(0, -2),
      `${good}.X`,
      good.replace('1.2.156.3005.2', '1.2.156.3005.3'),
      good.replace('.001.', '.1.'),
      good.replace('.001.', '.0001.'),
      good.toLowerCase(),
      ` ${good}`,
      `${good}\n`,
    ]) {
      expect({ bad, parsed: parseLicenceNumber(bad) }).toEqual({ bad, parsed: undefined })
    }
  })
})
