import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidUsccError } from '../../../src/core/errors'
import { assertUscc, usccCheckCharacter, usccProblem, withUsccCheck } from '../../../src/core/licence/uscc'

/** GB 32100-2015: the 31 characters a 统一社会信用代码 may use (digits and capitals without I, O, Z, S, V). */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const char = fc.constantFrom(...CHARSET)
const digit = fc.constantFrom(...'0123456789')
/** The first 17 characters: authority and type (any of the set), a six-digit region, a nine-character organisation code. */
const first17 = fc.tuple(fc.string({ unit: char, minLength: 2, maxLength: 2 }), fc.string({ unit: digit, minLength: 6, maxLength: 6 }), fc.string({ unit: char, minLength: 9, maxLength: 9 })).map((parts) => parts.join(''))

describe('统一社会信用代码 (GB 32100-2015)', () => {
  it.each([
    ['91350100M000100Y43', 'the example code printed in GB 32100-2015 and most guides to it'],
    ['11100000000013338W', '国家市场监督管理总局 (the authority code in business-licence type codes)'],
    ['91110000600037341L', "python-stdnum's stdnum/cn/uscc.py doctest"],
    ['914403001922038216', '华为技术有限公司'],
    ['9144030071526726XG', '腾讯科技（深圳）有限公司'],
    ['91330100716105852F', '阿里巴巴（中国）有限公司'],
  ])('accepts the real code %s (%s)', (code) => {
    expect(usccProblem(code)).toBeUndefined()
    expect(usccCheckCharacter(code.slice(0, 17))).toBe(code[17])
    expect(() => assertUscc(code)).not.toThrow()
  })

  it.each([
    ['12345', /18 characters, this one has 5/],
    ['', /18 characters, this one has 0/],
    ['91350100M000100Y4', /this one has 17/],
    ['91350100M000100Y433', /this one has 19/],
    ['91350100M000100Y44', /check character is '4', GB 32100 requires '3'/],
    ['91350100M000100Y34', /check character is '4'/],
    ['91110000600037341M', /check character is 'M', GB 32100 requires 'L'/],
    ['A1110000600037341L', /check character is 'L'/],
    ['913501O0M000100Y43', /character 7 \('O'\) is not in the GB 32100 character set/],
    ['91350100M000100I43', /character 16 \('I'\)/],
    ['91350100Z000100Y43', /character 9 \('Z'\)/],
    ['91350100S000100Y43', /character 9 \('S'\)/],
    ['91350100V000100Y43', /character 9 \('V'\)/],
    ['91350100m000100y43', /character 9 \('m'\)/],
    ['91350100M000100Y4 ', /character 18 \(' '\)/],
    ['9135A100M000100Y43', /characters 3 to 8 \('35A100'\) are the registering region's GB\/T 2260 code/],
  ])('refuses %j, saying what is wrong', (code, says) => {
    expect(usccProblem(code)).toMatch(says)
    expect(() => assertUscc(code)).toThrow(InvalidUsccError)
    expect(() => assertUscc(code)).toThrow(says)
  })

  it('names each forbidden letter I, O, Z, S, V at every position', () => {
    const valid = '91350100M000100Y43'
    for (const letter of 'IOZSV') {
      for (let i = 0; i < 18; i++) {
        const code = `${valid.slice(0, i)}${letter}${valid.slice(i + 1)}`
        expect(usccProblem(code)).toContain(`character ${i + 1} ('${letter}') is not in the GB 32100 character set`)
      }
    }
  })

  it('usccCheckCharacter refuses characters outside the set, and anything but 17 characters, with InvalidUsccError', () => {
    expect(() => usccCheckCharacter('91350100M000100I4')).toThrow(InvalidUsccError)
    expect(() => usccCheckCharacter('9135')).toThrow(/17 characters, not 4/)
    expect(() => usccCheckCharacter('91350100M000100Y43')).toThrow(/17 characters, not 18/)
    expect(() => withUsccCheck('9135')).toThrow(InvalidUsccError)
  })

  it('withUsccCheck always yields a valid code (property)', () => {
    fc.assert(
      fc.property(first17, (body) => {
        const code = withUsccCheck(body)
        expect(code).toHaveLength(18)
        expect(code.startsWith(body)).toBe(true)
        expect(usccProblem(code)).toBeUndefined()
      }),
      { numRuns: 2000 },
    )
  })

  it('detects every single-character change (property)', () => {
    fc.assert(
      fc.property(first17, fc.nat(17), char, (body, position, replacement) => {
        const code = withUsccCheck(body)
        fc.pre(code[position] !== replacement)
        const changed = `${code.slice(0, position)}${replacement}${code.slice(position + 1)}`
        expect(usccProblem(changed)).toBeDefined()
      }),
      { numRuns: 5000 },
    )
  })

  it('detects any character at all put in any position, not only ones from the set (property)', () => {
    fc.assert(
      fc.property(first17, fc.nat(17), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }), (body, position, replacement) => {
        const code = withUsccCheck(body)
        fc.pre(code[position] !== replacement)
        expect(usccProblem(`${code.slice(0, position)}${replacement}${code.slice(position + 1)}`)).toBeDefined()
      }),
      { numRuns: 2000 },
    )
  })

  it('detects every swap of two different adjacent characters before the check character (property)', () => {
    fc.assert(
      fc.property(first17, fc.nat(15), (body, i) => {
        const code = withUsccCheck(body)
        fc.pre(code[i] !== code[i + 1])
        const swapped = `${code.slice(0, i)}${code[i + 1]}${code[i]}${code.slice(i + 2)}`
        expect(usccProblem(swapped)).toBeDefined()
      }),
      { numRuns: 3000 },
    )
  })
})
