import { InvalidUsccError } from '../errors'

/**
 * 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character set (no I, O, Z, S, V),
 * the last a check character over the first 17 with weights 3^i mod 31.
 */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

export function usccCheckCharacter(first17: string): string {
  if (first17.length !== 17) throw new InvalidUsccError(`the check character is computed over 17 characters, not ${first17.length}`)
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const value = CHARSET.indexOf(first17[i] as string)
    if (value < 0) throw new InvalidUsccError(`character ${i + 1} of the credit code is not allowed`)
    sum += value * (WEIGHTS[i] as number)
  }
  return CHARSET[(31 - (sum % 31)) % 31] as string
}

/** Returns why `code` is not a valid credit code, or undefined when it is. */
export function usccProblem(code: string): string | undefined {
  if (code.length !== 18) return `a 统一社会信用代码 has 18 characters, this one has ${code.length}`
  for (let i = 0; i < 18; i++) {
    if (!CHARSET.includes(code[i] as string)) {
      return `character ${i + 1} ('${code[i]}') is not in the GB 32100 character set (digits and capitals without I, O, Z, S, V)`
    }
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) {
    return `characters 3 to 8 ('${code.slice(2, 8)}') are the registering region's GB/T 2260 code and must be digits`
  }
  const expected = usccCheckCharacter(code.slice(0, 17))
  if (code[17] !== expected) return `check character is '${code[17]}', GB 32100 requires '${expected}'`
  return undefined
}

export function assertUscc(code: string): void {
  const problem = usccProblem(code)
  if (problem) throw new InvalidUsccError(`invalid 统一社会信用代码 ${JSON.stringify(code)}: ${problem}`)
}

/** Completes 17 characters into a valid credit code (used for the bureau's default code). */
export function withUsccCheck(first17: string): string {
  return first17 + usccCheckCharacter(first17)
}
