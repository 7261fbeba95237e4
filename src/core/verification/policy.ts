import { CREDENTIAL_TYP } from '../licence/credential'
import { QR_TYP } from '../licence/qr-payload'
import * as checks from './checks'
import type { Check } from './checks'
import type { Indication, SubIndication } from './report'

/**
 * A policy says which checks are made, in which order, what each failure means and which
 * checks need others to have passed first. The order is the precedence of failures: the first
 * failed check decides the indication. See docs/verification.md for the table.
 */
export interface PolicyRule {
  name: string
  question: string
  check: Check
  onFailure: { indication: Exclude<Indication, 'TOTAL_PASSED'>; subIndication: SubIndication }
  requires: string[]
}

export interface Policy {
  name: string
  /** The JWS `typ` of the format the policy judges. */
  typ: string
  allowedAlgorithms: readonly string[]
  rules: PolicyRule[]
}

const failed = (subIndication: SubIndication) => ({ indication: 'TOTAL_FAILED' as const, subIndication })
const indeterminate = (subIndication: SubIndication) => ({ indication: 'INDETERMINATE' as const, subIndication })

const HEADER = ['compact-jws']
const CRYPTO = ['compact-jws', 'signer-known', 'signer-algorithm', 'no-critical-extensions']
const CONTENT = ['compact-jws', 'signature', 'licence-credential']

const RULES: PolicyRule[] = [
  { name: 'compact-jws', question: 'Is it a well-formed compact JWS?', check: checks.isCompactJws, onFailure: failed('FORMAT_FAILURE'), requires: [] },
  { name: 'algorithm-allowed', question: 'Is the signature algorithm one the policy allows?', check: checks.algorithmIsAllowed, onFailure: failed('FORMAT_FAILURE'), requires: HEADER },
  { name: 'no-embedded-keys', question: 'Does the header leave trust to the trust list (no jwk, jku, x5c, x5u)?', check: checks.headerBringsNoKeys, onFailure: failed('FORMAT_FAILURE'), requires: HEADER },
  { name: 'no-critical-extensions', question: 'Are all critical header extensions understood?', check: checks.noCriticalExtensions, onFailure: failed('FORMAT_FAILURE'), requires: HEADER },
  { name: 'media-type', question: 'Is it typed as what it claims to be (vc+jwt for a credential, tongban-qr+jwt for a QR payload)?', check: checks.typeMatchesFormat, onFailure: failed('FORMAT_FAILURE'), requires: HEADER },
  { name: 'signer-known', question: 'Is the signer (kid) a document signer in a trusted trust list?', check: checks.signerIsKnown, onFailure: indeterminate('NO_SIGNING_CERTIFICATE_FOUND'), requires: HEADER },
  { name: 'signer-algorithm', question: "Does the header's algorithm match the signer's key?", check: checks.signerAlgorithmMatches, onFailure: failed('SIG_CRYPTO_FAILURE'), requires: ['signer-known'] },
  { name: 'signature', question: "Does the signature verify with the signer's public key?", check: checks.signatureIsValid, onFailure: failed('SIG_CRYPTO_FAILURE'), requires: CRYPTO },
  { name: 'certificate-chain', question: "Does the signer's certificate chain to a trusted root?", check: checks.signerChainsToTrustedRoot, onFailure: indeterminate('NO_CERTIFICATE_CHAIN_FOUND'), requires: ['signer-known'] },
  { name: 'certificates-valid-at-signing', question: 'Were the signer and its CAs valid when the credential was signed?', check: checks.certificatesValidAtSigning, onFailure: indeterminate('OUT_OF_BOUNDS_NO_POE'), requires: ['signature', 'certificate-chain'] },
  { name: 'licence-credential', question: 'Is the payload a licence credential (W3C VC 2.0) or licence QR payload?', check: checks.isLicenceCredential, onFailure: failed('FORMAT_FAILURE'), requires: HEADER },
  { name: 'issuer-is-signer-region', question: 'Is the issuing region the region of the signer?', check: checks.issuerMatchesSigner, onFailure: indeterminate('SIG_CONSTRAINTS_FAILURE'), requires: CONTENT },
  { name: 'licence-number', question: 'Is the licence number a valid GB/T 36904 identifier?', check: checks.licenceNumberIsWellFormed, onFailure: failed('FORMAT_FAILURE'), requires: CONTENT },
  { name: 'status-known', question: 'Can its revocation and suspension status be learned from its issuer?', check: checks.statusIsKnown, onFailure: indeterminate('TRY_LATER'), requires: CONTENT },
  { name: 'not-revoked', question: 'Is the licence not revoked?', check: checks.isNotRevoked, onFailure: failed('REVOKED'), requires: ['status-known'] },
  { name: 'not-suspended', question: 'Is the licence not suspended?', check: checks.isNotSuspended, onFailure: indeterminate('TRY_LATER'), requires: ['status-known'] },
  { name: 'valid-from', question: 'Has the licence begun to be valid at the verification time?', check: checks.licenceHasBegun, onFailure: failed('NOT_YET_VALID'), requires: CONTENT },
  { name: 'valid-until', question: 'Is the licence still valid at the verification time?', check: checks.licenceHasNotExpired, onFailure: failed('EXPIRED'), requires: CONTENT },
]

export const LICENCE_CREDENTIAL_POLICY: Policy = {
  name: 'tongban-licence-credential-v1',
  typ: CREDENTIAL_TYP,
  allowedAlgorithms: ['ES256', 'EdDSA'],
  rules: RULES,
}

/** The QR payload printed on a licence PDF is judged by the same rules, with its own media type. */
export const LICENCE_QR_POLICY: Policy = { ...LICENCE_CREDENTIAL_POLICY, name: 'tongban-licence-qr-v1', typ: QR_TYP }
