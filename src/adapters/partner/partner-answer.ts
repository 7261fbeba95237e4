import type { PartnerAnswer } from './partner-client'

/**
 * Refusals that say "not now" rather than "never": the partner is rate limiting us (429, 408,
 * 425), or does not yet accept our signature (401: its copy of our trust list is older than
 * our key, which its next refresh fixes). Every other 4xx is the partner's considered refusal
 * (outside the agreement, invalid, unknown), which asking again cannot change.
 */
const TRANSIENT_REFUSALS = new Set([401, 408, 425, 429])

export function isFinalRefusal(status: number): boolean {
  return status >= 400 && status < 500 && !TRANSIENT_REFUSALS.has(status)
}

/** The problem+json `code` and `detail` of a partner's answer, as far as they can be read. */
export function problemOf(answer: Pick<PartnerAnswer, 'contentType' | 'json'>): { code?: string; detail?: string } {
  if (!answer.contentType.includes('json')) return {}
  try {
    const body = answer.json<{ code?: unknown; detail?: unknown }>()
    return {
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
      ...(typeof body.detail === 'string' ? { detail: body.detail.slice(0, 300) } : {}),
    }
  } catch {
    return {}
  }
}

/** One line that says what a partner answered: status, problem code and detail. */
export function describeAnswer(call: string, answer: Pick<PartnerAnswer, 'status' | 'contentType' | 'json'>): string {
  const problem = problemOf(answer)
  return `${call}: HTTP ${answer.status}${problem.code ? ` ${problem.code}` : ''}${problem.detail ? `: ${problem.detail}` : ''}`
}
