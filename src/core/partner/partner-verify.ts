import { NotFoundError, OutsideAgreementError, ValidationError } from '../errors'
import { sha256Hex } from '../digest'
import { jwsOfQrText } from '../licence/qr-payload'
import type { Clock, JwsSigner, Store } from '../ports'
import type { VerificationReport } from '../verification/report'
import { disclosedReport } from '../verification/disclosure'
import { verifyCredential, type VerifierDeps } from '../verification/verify-credential'
import type { PartnerScope } from './scope'

export const RECEIPT_TYP = 'tongban-receipt+jwt'

export type PartnerVerifyRequest = { credential: string } | { qr: string } | { number: string }

export interface PartnerVerifyDeps {
  verifier: VerifierDeps
  scope: PartnerScope
  store: Pick<Store, 'findLicenceByNumber'>
  attestation: JwsSigner
  clock: Clock
  region: { code: string; name: string }
  publicUrl: string
}

/**
 * A partner asks about one of this region's licences. The same verification as anyone's runs,
 * then the agreement decides: a licence type it does not cover is refused outright (403), and of
 * a covered type only the fields it names are shown. On request the answer carries a receipt:
 * a JWS by this region's attestation key over the verdict, the credential's digest, the time
 * and who asked, which anyone holding this region's trust list can check later.
 */
export async function verifyForPartner(
  deps: PartnerVerifyDeps,
  partner: string,
  request: PartnerVerifyRequest & { receipt?: boolean; purpose?: string },
): Promise<{ report: VerificationReport; receipt?: string }> {
  const at = deps.clock.now()
  let credential: string
  let format: 'jws' | 'qr' = 'jws'
  if ('number' in request) {
    const licence = await deps.store.findLicenceByNumber(request.number)
    if (!licence) throw new NotFoundError('licence_not_found', `no licence numbered ${request.number} was issued here`)
    credential = licence.credential
  } else if ('qr' in request) {
    credential = jwsOfQrText(request.qr)
    format = 'qr'
  } else {
    credential = request.credential.trim()
  }
  const full = await verifyCredential(deps.verifier, credential, { at, format })
  if (full.licence && full.issuer && full.issuer.regionCode !== deps.region.code) {
    throw new ValidationError('not_our_licence', `the licence was issued by region ${full.issuer.regionCode}; ask that region`)
  }
  let report = full
  if (full.licence) {
    const typeKey = full.licence.type.key ?? full.licence.type.code
    const fields = deps.scope.verifiableFields(partner, typeKey, at)
    if (!fields) throw new OutsideAgreementError('outside_agreement', `the agreement does not let ${partner} verify ${full.licence.type.name} (${typeKey}) licences`)
    report = disclosedReport(full, fields)
  }
  if (!request.receipt) return { report }
  const receipt = await deps.attestation.sign(
    {
      iss: deps.publicUrl,
      region: deps.region,
      jti: crypto.randomUUID(),
      iat: Math.floor(at.getTime() / 1000),
      verifiedAt: at.toISOString(),
      requester: { region: partner, ...(request.purpose ? { purpose: request.purpose } : {}) },
      credentialSha256: await sha256Hex(credential),
      indication: report.indication,
      subIndication: report.subIndication,
      policy: report.policy,
      licence: report.licence ? { number: report.licence.number, type: report.licence.type, status: report.licence.status, holder: report.licence.holder, fields: report.licence.fields } : null,
      checks: report.checks.map((check) => ({ name: check.name, result: check.result })),
    },
    { typ: RECEIPT_TYP },
  )
  return { report, receipt }
}
