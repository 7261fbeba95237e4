/**
 * 公民身份号码 (GB 11643-1999): 17 digits and a check character, ISO/IEC 7064 MOD 11-2
 * ('X' stands for 10). Returns why the number is invalid, or undefined.
 */
export function idNumberProblem(idNumber: string): string | undefined {
  if (!/^\d{17}[\dX]$/.test(idNumber)) return 'a 公民身份号码 is 17 digits and a check character (digit or X)'
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(idNumber[i]) * (2 ** (17 - i) % 11)
  const expected = '10X98765432'[sum % 11]
  if (idNumber[17] !== expected) return `check character is '${idNumber[17]}', GB 11643 requires '${expected}'`
  const [year, month, day] = [idNumber.slice(6, 10), idNumber.slice(10, 12), idNumber.slice(12, 14)].map(Number) as [number, number, number]
  const birth = new Date(Date.UTC(year, month - 1, day))
  if (month < 1 || month > 12 || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day) {
    return `the birth date inside the number (${idNumber.slice(6, 14)}) is not a date`
  }
  return undefined
}
