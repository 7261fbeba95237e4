import type { VerificationReport } from './report'

/** Not a field of any licence type: a person's whole 公民身份号码, masked unless disclosed. */
export const HOLDER_ID_NUMBER_FIELD = 'holder.idNumber'

/**
 * The report with only what the asker may see: the licence fields named, and a person's identity
 * number masked unless `holder.idNumber` is named. The checks, issuer and signer stay: they say
 * whether to trust the licence, not what is in it.
 */
export function disclosedReport(report: VerificationReport, fields: readonly string[]): VerificationReport {
  if (!report.licence) return report
  const allowed = new Set(fields)
  const holder = report.licence.holder as { kind?: string; idNumber?: string } | null
  const shownHolder =
    holder?.kind === 'person' && typeof holder.idNumber === 'string' && !allowed.has(HOLDER_ID_NUMBER_FIELD)
      ? { ...holder, idNumber: `${holder.idNumber.slice(0, 1)}****************${holder.idNumber.slice(-1)}` }
      : holder
  return {
    ...report,
    licence: { ...report.licence, holder: shownHolder, fields: Object.fromEntries(Object.entries(report.licence.fields).filter(([name]) => allowed.has(name))) },
  }
}
