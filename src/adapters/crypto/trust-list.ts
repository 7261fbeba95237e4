import { compactVerify, decodeProtectedHeader } from 'jose'
import { TongbanError } from '../../core/errors'
import type { TrustedSigner } from '../../core/trust/trusted-signer'
import { createJwsSigner, kidOf, publicCryptoKey } from './jws-signer'
import type { PkiRole, RegionPki } from './pki'
import { base64Der, certificateFingerprint, fromBase64, x509 } from './x509'
import { buildChain } from './x509-chain'

/**
 * The trust list a region publishes for its partners (contracts/trust-list.md): its
 * certificates by role, where its status lists live, a validity window and a sequence number,
 * signed by its trust-list signer with the chain in `x5c`. A partner checks the chain against
 * the root fingerprint it pinned out of band.
 */
export const TRUST_LIST_TYP = 'tongban-trust-list+jwt'
export const TRUST_LIST_FORMAT = 'tongban-trust-list/1'

export interface TrustListCertificate {
  role: PkiRole
  subject: string
  sha256: string
  notBefore: string
  notAfter: string
  /** Base64 DER. */
  certificate: string
  /** For signing keys: the JWS kid and the only algorithm the key is used with. */
  kid?: string
  alg?: 'ES256'
}

export interface TrustListContent {
  format: typeof TRUST_LIST_FORMAT
  region: { code: string; name: string; baseUrl: string }
  issuer: { name: string; uscc: string }
  certificates: TrustListCertificate[]
  statusListBase: string
}

export interface TrustList extends TrustListContent {
  sequence: number
  issuedAt: string
  validUntil: string
}

export class TrustListError extends TongbanError {
  readonly code = 'invalid_trust_list'
  readonly status = 422
}

const PUBLISHED_ROLES: PkiRole[] = ['root', 'issuing-ca', 'document-signer', 'trust-list-signer', 'seal-ca', 'partner-auth', 'attestation-signer']
/** Roles whose entries carry a kid and alg: keys partners verify JWS and HTTP message signatures with. */
const KEYED_ROLES: PkiRole[] = ['document-signer', 'partner-auth', 'attestation-signer']
/** Roles whose keys sign licence credentials. */
const SIGNING_ROLES: PkiRole[] = ['document-signer']

export async function buildTrustListContent(
  pki: RegionPki,
  region: TrustListContent['region'],
  issuer: TrustListContent['issuer'],
  statusListBase: string,
): Promise<TrustListContent> {
  const certificates: TrustListCertificate[] = []
  for (const role of PUBLISHED_ROLES) {
    const { certificate } = pki[role]
    certificates.push({
      role,
      subject: certificate.subject,
      sha256: await certificateFingerprint(certificate),
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      certificate: base64Der(certificate),
      ...(KEYED_ROLES.includes(role) ? { kid: await kidOf(certificate), alg: 'ES256' as const } : {}),
    })
  }
  return { format: TRUST_LIST_FORMAT, region, issuer, certificates, statusListBase }
}

export async function signTrustList(pki: RegionPki, list: TrustList): Promise<string> {
  const signer = await createJwsSigner(pki['trust-list-signer'], {
    x5c: [base64Der(pki['trust-list-signer'].certificate), base64Der(pki['issuing-ca'].certificate), base64Der(pki.root.certificate)],
  })
  return signer.sign(list, { typ: TRUST_LIST_TYP })
}

function certificatesOf(list: TrustListContent, role: PkiRole): x509.X509Certificate[] {
  return list.certificates.filter((c) => c.role === role).map((c) => new x509.X509Certificate(fromBase64(c.certificate)))
}

/** A trust list issued this far in the verifier's future is refused: clocks differ, not by more. */
const CLOCK_SKEW_MS = 5 * 60_000

function certificatesOfHeader(x5c: unknown): x509.X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length < 2 || x5c.length > 5) throw new TrustListError('the trust list header needs an x5c chain of 2 to 5 certificates')
  return x5c.map((der, i) => {
    try {
      if (typeof der !== 'string') throw new TypeError('not a string')
      return new x509.X509Certificate(fromBase64(der))
    } catch (cause) {
      throw new TrustListError(`x5c[${i}] is not a base64 DER certificate`, { cause })
    }
  })
}

function parseTrustList(payload: Uint8Array): TrustList {
  let list: TrustList
  try {
    list = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as TrustList
  } catch (cause) {
    throw new TrustListError('the trust list payload is not JSON', { cause })
  }
  if (list?.format !== TRUST_LIST_FORMAT) throw new TrustListError(`unknown trust list format ${JSON.stringify(list?.format)}`)
  if (!Array.isArray(list.certificates) || typeof list.sequence !== 'number' || Number.isNaN(Date.parse(list.issuedAt)) || Number.isNaN(Date.parse(list.validUntil))) {
    throw new TrustListError('the trust list lacks certificates, sequence, issuedAt or validUntil')
  }
  return list
}

/**
 * Checks a trust list JWS against a pinned root fingerprint: the signer chain in x5c must end
 * at the pinned root, the signer must be the trust-list signer the list names, the signature
 * must hold, every root the list names must be the pinned one (so a stolen trust-list key
 * cannot bring in another root), and the list must be inside its validity window at `at`.
 */
export async function verifyTrustList(jws: string, pinnedRootSha256: string, at: Date): Promise<TrustList> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(jws)
  } catch (cause) {
    throw new TrustListError('the trust list is not a JWS', { cause })
  }
  if (header.alg !== 'ES256' || header.typ !== TRUST_LIST_TYP) {
    throw new TrustListError('the trust list header must be ES256, typed tongban-trust-list+jwt, with an x5c chain')
  }
  const pin = pinnedRootSha256.toLowerCase()
  const chain = certificatesOfHeader(header.x5c)
  const pinned: x509.X509Certificate[] = []
  for (const certificate of chain) if ((await certificateFingerprint(certificate)) === pin) pinned.push(certificate)
  if (pinned.length === 0) throw new TrustListError('the trust list is not signed under the pinned root')
  const [signerCert, ...rest] = chain as [x509.X509Certificate, ...x509.X509Certificate[]]
  const path = await buildChain(signerCert, rest, pinned)
  if (!path.trusted) throw new TrustListError(`the trust list signer does not chain to the pinned root: ${path.problem}`)
  if (path.windows.some((w) => at < w.notBefore || at > w.notAfter)) throw new TrustListError('a certificate of the trust list signer is outside its validity')
  let payload: Uint8Array
  try {
    ;({ payload } = await compactVerify(jws, await publicCryptoKey(signerCert), { algorithms: ['ES256'] }))
  } catch (cause) {
    throw new TrustListError('the trust list signature does not verify', { cause })
  }
  const list = parseTrustList(payload)
  const listed = list.certificates.find((c) => c.role === 'trust-list-signer')
  if (listed?.sha256 !== (await certificateFingerprint(signerCert))) throw new TrustListError('the trust list is not signed by the trust-list signer it lists')
  const roots = list.certificates.filter((c) => c.role === 'root')
  if (roots.length === 0 || roots.some((c) => c.sha256 !== pin)) throw new TrustListError('the trust list names a root other than the pinned one')
  if (new Date(list.issuedAt).getTime() > at.getTime() + CLOCK_SKEW_MS) throw new TrustListError(`the trust list claims to be issued at ${list.issuedAt}, in the future`)
  if (at > new Date(list.validUntil)) throw new TrustListError(`the trust list expired at ${list.validUntil}`)
  return list
}

/** The document signers of a trust list, each with the evidence of its chain to the list's roots. */
export async function trustedSignersOf(list: TrustListContent): Promise<TrustedSigner[]> {
  const roots = certificatesOf(list, 'root')
  const intermediates = certificatesOf(list, 'issuing-ca')
  const signers: TrustedSigner[] = []
  for (const entry of list.certificates.filter((c) => SIGNING_ROLES.includes(c.role))) {
    const certificate = new x509.X509Certificate(fromBase64(entry.certificate))
    const kid = await kidOf(certificate)
    if (entry.kid !== kid || entry.alg !== 'ES256') continue
    signers.push({
      kid,
      alg: entry.alg,
      publicKey: await publicCryptoKey(certificate),
      region: { code: list.region.code, name: list.region.name },
      certificate: {
        subject: certificate.subject,
        issuer: certificate.issuer,
        serialNumber: certificate.serialNumber,
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
        sha256: entry.sha256,
      },
      chain: await buildChain(certificate, intermediates, roots),
      statusListBase: list.statusListBase,
    })
  }
  return signers
}

/** A partner-auth or attestation key a region's trust list names, whose certificate chains to the list's root. */
export interface TrustedRegionKey {
  kid: string
  role: 'partner-auth' | 'attestation-signer'
  publicKey: CryptoKey
  region: { code: string; name: string }
  notBefore: Date
  notAfter: Date
}

/** The keys a region authenticates itself with (partner-auth) and attests with (attestation-signer). */
export async function trustedKeysOf(list: TrustListContent): Promise<TrustedRegionKey[]> {
  const roots = certificatesOf(list, 'root')
  const intermediates = certificatesOf(list, 'issuing-ca')
  const keys: TrustedRegionKey[] = []
  for (const entry of list.certificates) {
    if (entry.role !== 'partner-auth' && entry.role !== 'attestation-signer') continue
    const certificate = new x509.X509Certificate(fromBase64(entry.certificate))
    const kid = await kidOf(certificate)
    if (entry.kid !== kid || entry.alg !== 'ES256') continue
    if (!(await buildChain(certificate, intermediates, roots)).trusted) continue
    keys.push({ kid, role: entry.role, publicKey: await publicCryptoKey(certificate), region: { code: list.region.code, name: list.region.name }, notBefore: certificate.notBefore, notAfter: certificate.notAfter })
  }
  return keys
}

/** The region's CA certificates a PDF signature of its may chain through: roots, and the issuing and seal CAs. */
export function certificateAuthoritiesOf(list: TrustListContent): { roots: x509.X509Certificate[]; intermediates: x509.X509Certificate[] } {
  return { roots: certificatesOf(list, 'root'), intermediates: [...certificatesOf(list, 'issuing-ca'), ...certificatesOf(list, 'seal-ca')] }
}
