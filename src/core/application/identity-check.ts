import { ValidationError } from '../errors'
import { verifyPartnerStatement, type AttestationKeyOf } from '../partner/partner-statement'
import type { JwsSigner } from '../ports'
import type { Applicant, Application, ApplicationEvent, ApplicationStatementClaims } from './application'

/** The JWS `typ` of an identity check (contracts/partner-api.md); never taken for an event, receipt or credential. */
export const IDENTITY_CHECK_TYP = 'tongban-identity-check+jwt'

/**
 * The accepting region's signed word that its window checked who the applicant is, so the
 * handling region, which never sees the applicant, can rely on it and knows whom to hold to
 * account. It names the application and the applicant it is about, so it cannot be moved to
 * another application, and the handling region it is for (`aud`).
 */
export interface IdentityCheckClaims extends ApplicationStatementClaims {
  applicant: { kind: Applicant['kind']; identifier: string; name: string }
  /** How the identity was checked: `window` is staff checking the documents in person. */
  method: 'window'
  checkedBy: string
  checkedAt: string
}

function applicantIdentity(applicant: Applicant): IdentityCheckClaims['applicant'] {
  return { kind: applicant.kind, identifier: applicant.kind === 'enterprise' ? applicant.uscc : applicant.idNumber, name: applicant.name }
}

export async function signIdentityCheck(signer: JwsSigner, publicUrl: string, application: Application, submitted: ApplicationEvent): Promise<string> {
  const claims: IdentityCheckClaims = {
    iss: publicUrl,
    region: application.acceptingRegion,
    aud: application.handlingRegion.code,
    jti: application.id,
    iat: Math.floor(submitted.at.getTime() / 1000),
    applicationId: application.id,
    applicant: applicantIdentity(application.applicant),
    method: 'window',
    checkedBy: submitted.actor,
    checkedAt: submitted.at.toISOString(),
  }
  return signer.sign(claims, { typ: IDENTITY_CHECK_TYP })
}

/**
 * Checks a forwarded application's identity check: signed by an attestation key of the calling
 * region's trust list (not merely any region's), of the right type, for this region, about this
 * application and this applicant. Every failure is the same 422, saying which check failed.
 */
export async function verifyIdentityCheck(
  jws: string,
  expected: { caller: string; audience: string; applicationId: string; applicant: Applicant },
  keyOf: AttestationKeyOf,
): Promise<IdentityCheckClaims> {
  const refuse = (why: string): never => {
    throw new ValidationError('invalid_identity_check', `the identity check is not valid: ${why}`, [{ pointer: '/identityCheck', message: why }])
  }
  const verified = await verifyPartnerStatement<IdentityCheckClaims>(jws, IDENTITY_CHECK_TYP, expected.caller, keyOf)
  if (!verified.ok) return refuse(verified.why)
  const claims = verified.claims
  if (claims.region?.code !== expected.caller) refuse(`it is not ${expected.caller}'s statement`)
  if (claims.aud !== expected.audience) refuse(`it is addressed to ${String(claims.aud)}, not ${expected.audience}`)
  if (claims.applicationId !== expected.applicationId) refuse('it is about another application')
  const wanted = applicantIdentity(expected.applicant)
  const got = claims.applicant
  if (got?.kind !== wanted.kind || got.identifier !== wanted.identifier || got.name !== wanted.name) refuse('it is about another applicant')
  return claims
}
