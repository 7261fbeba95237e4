import type { StatusSource, TrustStore } from '../ports'
import { evaluate } from './evaluate'
import { gatherJwsEvidence, type JwsEvidence } from './gather'
import { LICENCE_CREDENTIAL_POLICY, type Policy } from './policy'
import type { LicenceSummary, VerificationReport } from './report'

export interface VerifierDeps {
  trust: TrustStore
  status: StatusSource
}

function licenceStatus(evaluated: VerificationReport['checks'], evidence: JwsEvidence): LicenceSummary['status'] {
  const result = (name: string) => evaluated.find((check) => check.name === name)?.result
  if (evidence.status.revocation?.bit.known && evidence.status.revocation.bit.set) return 'revoked'
  if (evidence.status.suspension?.bit.known && evidence.status.suspension.bit.set) return 'suspended'
  if (result('valid-until') === 'failed') return 'expired'
  if (result('valid-from') === 'failed') return 'not_yet_valid'
  return result('status-known') === 'passed' ? 'active' : 'unknown'
}

/** What the report says about the licence, from a payload that passed the licence-credential check. */
function summarise(evidence: JwsEvidence, checks: VerificationReport['checks']): Pick<VerificationReport, 'licence' | 'issuer' | 'signer'> {
  const signer = evidence.signer
  // Only a payload whose signature holds is described: a forged one must not be shown as a licence.
  const passed = (name: string) => checks.find((check) => check.name === name)?.result === 'passed'
  const wellFormed = passed('licence-credential') && passed('signature')
  const payload = evidence.parsed?.payload as Record<string, any> | undefined
  return {
    licence: wellFormed && payload
      ? {
          id: typeof payload.id === 'string' ? payload.id.replace(/^urn:uuid:/, '') : null,
          number: payload.credentialSubject.licence.number,
          version: payload.credentialSubject.licence.version,
          type: payload.credentialSubject.licence.type,
          holder: payload.credentialSubject.holder,
          fields: payload.credentialSubject.licence.fields,
          validFrom: payload.validFrom,
          validUntil: payload.validUntil,
          status: licenceStatus(checks, evidence),
        }
      : null,
    issuer: wellFormed && payload
      ? { regionCode: payload.issuer.regionCode, regionName: payload.issuer.regionName, name: payload.issuer.name, id: payload.issuer.id }
      : null,
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
  const policy = options.policy ?? LICENCE_CREDENTIAL_POLICY
  const evidence = await gatherJwsEvidence(credential, deps.trust, deps.status)
  const evaluation = evaluate(policy, evidence, options.at)
  return {
    indication: evaluation.indication,
    subIndication: evaluation.subIndication,
    format: options.format ?? 'jws',
    policy: { name: policy.name, at: options.at.toISOString() },
    checks: evaluation.checks,
    ...summarise(evidence, evaluation.checks),
  }
}
