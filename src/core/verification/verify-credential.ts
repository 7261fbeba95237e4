import type { StatusSource, TrustStore } from '../ports'
import { evaluate } from './evaluate'
import { gatherJwsEvidence, type JwsEvidence } from './gather'
import { LICENCE_CREDENTIAL_POLICY, LICENCE_QR_POLICY, type Policy } from './policy'
import type { LicenceSummary, VerificationReport } from './report'

export interface VerifierDeps {
  trust: TrustStore
  status: StatusSource
}

/**
 * The result of the named check. A module-level function rather than a closure per report: tsx
 * (which runs the service) keeps function names, and names every closure as it is created.
 */
function resultOf(checks: VerificationReport['checks'], name: string) {
  for (const check of checks) if (check.name === name) return check.result
  return undefined
}

function licenceStatus(evaluated: VerificationReport['checks'], evidence: JwsEvidence): LicenceSummary['status'] {
  if (evidence.status.revocation?.bit.known && evidence.status.revocation.bit.set) return 'revoked'
  if (evidence.status.suspension?.bit.known && evidence.status.suspension.bit.set) return 'suspended'
  if (resultOf(evaluated, 'valid-until') === 'failed') return 'expired'
  if (resultOf(evaluated, 'valid-from') === 'failed') return 'not_yet_valid'
  return resultOf(evaluated, 'status-known') === 'passed' ? 'active' : 'unknown'
}

/** What the report says about the licence: only from a payload that was read and whose signature holds. */
function summarise(evidence: JwsEvidence, checks: VerificationReport['checks']): Pick<VerificationReport, 'licence' | 'issuer' | 'signer'> {
  const signer = evidence.signer
  const claims = resultOf(checks, 'licence-credential') === 'passed' && resultOf(checks, 'signature') === 'passed' ? evidence.claims : undefined
  return {
    licence: claims
      ? {
          id: claims.id,
          number: String(claims.number),
          version: claims.version,
          type: claims.type,
          holder: claims.holder,
          fields: claims.fields,
          validFrom: claims.validFrom.toISOString(),
          validUntil: claims.validUntil.toISOString(),
          status: licenceStatus(checks, evidence),
        }
      : null,
    issuer: claims ? { ...claims.issuer, regionName: claims.issuer.regionName || (signer?.region.name ?? '') } : null,
    signer: signer
      ? {
          kid: signer.kid,
          subject: signer.certificate.subject,
          issuer: signer.certificate.issuer,
          serialNumber: signer.certificate.serialNumber,
          notBefore: signer.certificate.notBefore.toISOString(),
          notAfter: signer.certificate.notAfter.toISOString(),
          chain: signer.chain.path,
        }
      : null,
  }
}

export async function verifyCredential(
  deps: VerifierDeps,
  credential: string,
  options: { at: Date; format?: 'jws' | 'qr'; policy?: Policy },
): Promise<VerificationReport> {
  const format = options.format ?? 'jws'
  const policy = options.policy ?? (format === 'qr' ? LICENCE_QR_POLICY : LICENCE_CREDENTIAL_POLICY)
  const evidence = await gatherJwsEvidence(credential, deps.trust, deps.status, format)
  const evaluation = evaluate(policy, evidence, options.at)
  return {
    indication: evaluation.indication,
    subIndication: evaluation.subIndication,
    format,
    policy: { name: policy.name, at: options.at.toISOString() },
    checks: evaluation.checks,
    ...summarise(evidence, evaluation.checks),
  }
}
