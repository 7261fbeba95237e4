import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { idNumberProblem } from '../../../src/core/licence/id-number'

/** GB 11643-1999 check character, written out from the standard: weights 2^(17-i) mod 11, ISO 7064 MOD 11-2. */
function withCheck(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = weights.reduce((total, weight, i) => total + weight * Number(first17[i]), 0)
  return first17 + '10X98765432'[sum % 11]
}

const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n })
const birthDate = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10).replaceAll('-', ''))
const first17 = fc.tuple(digits(6), birthDate, digits(3)).map((parts) => parts.join(''))

describe('公民身份号码 (GB 11643-1999)', () => {
  it.each([
    ['11010519491231002X', 'the example in GB 11643-1999'],
    ['360426199101010071', "python-stdnum's stdnum/cn/ric.py doctest"],
    ['440307200002290013', 'born on 29 February of a leap year (check character computed here)'],
  ])('accepts %s (%s)', (idNumber) => {
    expect(idNumberProblem(idNumber)).toBeUndefined()
  })

  it('the weights are 2^(17-i) mod 11', () => {
    expect(withCheck('11010519491231002')).toBe('11010519491231002X')
    expect(withCheck('44030720000229001')).toBe('440307200002290013')
  })

  it.each([
    ['110105194912310021', /check character is '1', GB 11643 requires 'X'/],
    ['11010519491231002x', /17 digits and a check character/],
    ['11010519491231002', /17 digits and a check character/],
    ['11010519491231002X1', /17 digits and a check character/],
    ['1101051949123100AX', /17 digits and a check character/],
    ['', /17 digits and a check character/],
    [withCheck('11010519491331002'), /birth date inside the number \(19491331\) is not a date/],
    [withCheck('11010519490001002'), /birth date/],
    [withCheck('11010519490230002'), /birth date inside the number \(19490230\)/],
    [withCheck('44030719000229001'), /birth date inside the number \(19000229\)/],
    [withCheck('11010519490431002'), /birth date/],
  ])('refuses %s, saying what is wrong', (idNumber, says) => {
    expect(idNumberProblem(idNumber)).toMatch(says)
  })

  it('accepts every number with a real birth date and its check character (property)', () => {
    fc.assert(
      fc.property(first17, (body) => {
        expect(idNumberProblem(withCheck(body))).toBeUndefined()
      }),
      { numRuns: 2000 },
    )
  })

  it('detects every single-digit change (property)', () => {
    fc.assert(
      fc.property(first17, fc.nat(17), fc.constantFrom(...'0123456789X'), (body, position, replacement) => {
        const idNumber = withCheck(body)
        fc.pre(idNumber[position] !== replacement)
        expect(idNumberProblem(`${idNumber.slice(0, position)}${replacement}${idNumber.slice(position + 1)}`)).toBeDefined()
      }),
      { numRuns: 5000 },
    )
  })
})
