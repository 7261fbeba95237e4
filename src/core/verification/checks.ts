import { parseLicenceNumber } from '../licence/licence-number'
import type { JwsEvidence } from './gather'

/**
 * Each check answers one question about the gathered evidence, at the policy's time. A check
 * only judges; it never fetches or computes evidence itself.
 */
export interface CheckContext {
  at: Date
  allowedAlgorithms: readonly string[]
  /** The JWS `typ` the policy's format carries. */
  typ: string
}

export interface CheckOutcome {
  passed: boolean
  detail: string
}

export type Check = (evidence: JwsEvidence, context: CheckContext) => CheckOutcome

const pass = (detail: string): CheckOutcome => ({ passed: true, detail })
const fail = (detail: string): CheckOutcome => ({ passed: false, detail })

const header = (e: JwsEvidence) => e.parsed?.header ?? {}
const payload = (e: JwsEvidence) => e.parsed?.payload ?? {}

export const isCompactJws: Check = (e) => (e.parsed ? pass('three base64url parts, JSON header and payload') : fail(e.parseProblem ?? 'not parsed'))

export const algorithmIsAllowed: Check = (e, { allowedAlgorithms }) => {
  const alg = header(e).alg
  if (typeof alg !== 'string') return fail('the header names no algorithm')
  return allowedAlgorithms.includes(alg) ? pass(`alg ${alg}`) : fail(`alg ${JSON.stringify(alg)} is not allowed; allowed: ${allowedAlgorithms.join(', ')}`)
}

export const typeMatchesFormat: Check = (e, { typ }) => {
  const given = header(e).typ
  return given === typ ? pass(`typ ${typ}`) : fail(`typ is ${JSON.stringify(given)}, expected ${typ}`)
}

/** Keys or key locations inside a token would let it bring its own trust; the trust list alone decides. */
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5c', 'x5u', 'x5t', 'x5t#S256']

export const headerBringsNoKeys: Check = (e) => {
  const found = KEY_CARRYING_HEADERS.filter((name) => name in header(e))
  return found.length === 0 ? pass('no embedded keys or key URLs') : fail(`the header carries ${found.join(', ')}; keys come only from the trust list`)
}

export const noCriticalExtensions: Check = (e) => {
  const crit = header(e).crit
  return crit === undefined ? pass('no crit header') : fail(`crit ${JSON.stringify(crit)} names extensions this verifier does not understand`)
}

export const signerIsKnown: Check = (e) => {
  const kid = header(e).kid
  if (typeof kid !== 'string' || kid.length === 0) return fail('the header has no kid')
  if (!e.signer) return fail(`kid ${JSON.stringify(kid.slice(0, 80))} is not a document signer in any trusted trust list`)
  return pass(`${e.signer.certificate.subject} (${e.signer.region.name} ${e.signer.region.code})`)
}

export const signerAlgorithmMatches: Check = (e) => {
  const alg = header(e).alg
  return e.signer && alg === e.signer.alg ? pass(`the signer's key is ${e.signer.alg}`) : fail(`the signer's key is ${e.signer?.alg}, the header says ${JSON.stringify(alg)}`)
}

export const signatureIsValid: Check = (e) =>
  e.signatureValid === true ? pass('the signature verifies with the signer\'s public key') : fail('the signature does not verify with the signer\'s public key')

export const signerChainsToTrustedRoot: Check = (e) => {
  const chain = e.signer?.chain
  if (!chain) return fail('no signer')
  return chain.trusted ? pass(chain.path.join(' → ')) : fail(chain.problem ?? 'no path to a trusted root')
}

function signingTime(e: JwsEvidence): Date | undefined {
  const iat = payload(e).iat
  return typeof iat === 'number' && Number.isFinite(iat) ? new Date(iat * 1000) : undefined
}

/** Checks after `licence-credential` run only when it passed, so the claims are there. */
const claims = (e: JwsEvidence) => e.claims as NonNullable<JwsEvidence['claims']>

export const certificatesValidAtSigning: Check = (e) => {
  const when = signingTime(e)
  if (!when) return fail('the credential has no iat (signing time)')
  const outside = e.signer?.chain.windows.find((w) => when < w.notBefore || when > w.notAfter)
  return outside ? fail(`${outside.subject} was not valid at ${when.toISOString()}`) : pass(`every certificate on the path was valid at ${when.toISOString()}`)
}

export const isLicenceCredential: Check = (e) => {
  if (e.claims) return pass(e.format === 'qr' ? 'a tongban licence QR payload' : 'a W3C VC 2.0 LicenceCredential')
  return fail(e.claimsProblem ?? 'the payload cannot be read')
}

export const issuerMatchesSigner: Check = (e) => {
  const issuer = claims(e).issuer
  return issuer.regionCode === e.signer?.region.code
    ? pass(`issued and signed by region ${e.signer?.region.code}`)
    : fail(`the credential names region ${JSON.stringify(issuer.regionCode)} but its signer belongs to ${e.signer?.region.code}`)
}

export const licenceNumberIsWellFormed: Check = (e) => {
  const number = claims(e).number
  return typeof number === 'string' && parseLicenceNumber(number)
    ? pass(`${number} (GB/T 36904, check character holds)`)
    : fail(`${JSON.stringify(number)} is not a GB/T 36904 licence number with a valid check character`)
}

export const licenceHasBegun: Check = (e, { at }) => {
  const from = claims(e).validFrom
  return at >= from ? pass(`valid from ${from.toISOString()}`) : fail(`not valid before ${from.toISOString()}`)
}

export const licenceHasNotExpired: Check = (e, { at }) => {
  const until = claims(e).validUntil
  return at < until ? pass(`valid until ${until.toISOString()}`) : fail(`expired at ${until.toISOString()}`)
}

function statusCheck(purpose: 'revocation' | 'suspension', word: string): Check {
  return (e) => {
    const status = e.status[purpose]
    if (!status?.bit.known) return fail(`${purpose} status unknown`)
    return status.bit.set ? fail(`the ${purpose} status list marks it ${word}`) : pass(`not ${word} (${purpose} list entry ${status.index})`)
  }
}

export const statusIsKnown: Check = (e) => {
  const missing = (['revocation', 'suspension'] as const).filter((purpose) => !e.status[purpose])
  if (missing.length > 0) return fail(`it has no ${missing.join(' or ')} status entry`)
  for (const purpose of ['revocation', 'suspension'] as const) {
    const status = e.status[purpose]
    if (status && !status.statusListCredential.startsWith(e.signer?.statusListBase ?? '\u0000')) {
      return fail(`the ${purpose} status list ${status.statusListCredential} is not one its issuer publishes`)
    }
    if (status && !status.bit.known) return fail(`the ${purpose} status cannot be learned now: ${status.bit.reason}`)
  }
  return pass('revocation and suspension lists are current')
}

export const isNotRevoked = statusCheck('revocation', 'revoked')
export const isNotSuspended = statusCheck('suspension', 'suspended')
