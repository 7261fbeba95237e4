import type { CheckContext } from './checks'
import type { JwsEvidence } from './gather'
import type { Policy } from './policy'
import type { CheckReport, Indication, SubIndication } from './report'

export interface Evaluation {
  indication: Indication
  subIndication: SubIndication | null
  checks: CheckReport[]
}

/**
 * Runs the policy's rules over the evidence. A rule whose prerequisites did not all pass is
 * skipped (its question cannot be answered); the first failed rule decides the indication.
 */
export function evaluate(policy: Policy, evidence: JwsEvidence, at: Date): Evaluation {
  const context: CheckContext = { at, allowedAlgorithms: policy.allowedAlgorithms, typ: policy.typ }
  const results = new Map<string, CheckReport>()
  let decided: Pick<Evaluation, 'indication' | 'subIndication'> | undefined
  for (const rule of policy.rules) {
    const unmet = rule.requires.filter((name) => results.get(name)?.result !== 'passed')
    let report: CheckReport
    if (unmet.length > 0) {
      report = { name: rule.name, question: rule.question, result: 'skipped', detail: `needs ${unmet.join(', ')}` }
    } else {
      const outcome = rule.check(evidence, context)
      report = { name: rule.name, question: rule.question, result: outcome.passed ? 'passed' : 'failed', detail: outcome.detail }
      if (!outcome.passed && !decided) decided = rule.onFailure
    }
    results.set(rule.name, report)
  }
  return { indication: decided?.indication ?? 'TOTAL_PASSED', subIndication: decided?.subIndication ?? null, checks: [...results.values()] }
}
