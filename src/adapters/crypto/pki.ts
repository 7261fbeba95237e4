import { ES256, randomSerialNumber, x509 } from './x509'

/**
 * A region's PKI: a root CA, an issuing CA under it, and end-entity certificates under the
 * issuing CA, one per role, each with its own key (as the EU DCC gateway keeps a key per role).
 * All are ECDSA P-256 (ES256) and made with @peculiar/x509 on WebCrypto.
 */
export type PkiRole = 'root' | 'issuing-ca' | 'document-signer' | 'trust-list-signer' | 'seal-ca' | 'bureau-seal' | 'partner-auth' | 'attestation-signer'

export interface PkiEntry {
  certificate: x509.X509Certificate
  /** Absent where the key is kept elsewhere (a production root stays offline). */
  privateKey: CryptoKey | undefined
}

export type RegionPki = Record<PkiRole, PkiEntry>

export interface PkiIdentity {
  regionCode: string
  regionName: string
  bureauName: string
}

interface RoleProfile {
  issuer: PkiRole | 'self'
  commonName: (identity: PkiIdentity) => string
  years: number
  ca: boolean
  pathLength?: number
  keyUsage: x509.KeyUsageFlags
}

const SIGNING = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation
const CERT_SIGN = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign

export const ROLE_PROFILES: Record<PkiRole, RoleProfile> = {
  root: { issuer: 'self', commonName: (i) => `${i.regionName} 通办根CA ${i.regionCode}`, years: 20, ca: true, pathLength: 1, keyUsage: CERT_SIGN },
  'issuing-ca': { issuer: 'root', commonName: (i) => `${i.regionName} 通办签发CA ${i.regionCode}`, years: 10, ca: true, pathLength: 0, keyUsage: CERT_SIGN },
  'document-signer': { issuer: 'issuing-ca', commonName: (i) => `${i.bureauName} 电子证照签名 ${i.regionCode}`, years: 3, ca: false, keyUsage: SIGNING },
  'seal-ca': { issuer: 'root', commonName: (i) => `${i.regionName} 电子印章CA ${i.regionCode}`, years: 10, ca: true, pathLength: 0, keyUsage: CERT_SIGN | SIGNING },
  // The bureau's own seal (行政审批专用章): its key signs licence PDFs, its image is their visible seal.
  'bureau-seal': { issuer: 'seal-ca', commonName: (i) => `${i.bureauName}行政审批专用章`, years: 3, ca: false, keyUsage: SIGNING },
  'trust-list-signer': { issuer: 'issuing-ca', commonName: (i) => `${i.bureauName} 信任列表签名 ${i.regionCode}`, years: 3, ca: false, keyUsage: x509.KeyUsageFlags.digitalSignature },
  // Authenticates the region to its partners: RFC 9421 signatures on partner requests and answers, and its signature on agreements.
  'partner-auth': { issuer: 'issuing-ca', commonName: (i) => `${i.bureauName} 跨域互认身份 ${i.regionCode}`, years: 3, ca: false, keyUsage: x509.KeyUsageFlags.digitalSignature },
  // Signs what the region states about its own acts: verification receipts and audit-log checkpoints.
  'attestation-signer': { issuer: 'issuing-ca', commonName: (i) => `${i.bureauName} 核验回执签名 ${i.regionCode}`, years: 3, ca: false, keyUsage: SIGNING },
}

/** Generation order: every issuer before what it issues. */
export const PKI_ROLES: PkiRole[] = ['root', 'issuing-ca', 'document-signer', 'trust-list-signer', 'seal-ca', 'bureau-seal', 'partner-auth', 'attestation-signer']

function subjectName(identity: PkiIdentity, role: PkiRole): string {
  const cn = ROLE_PROFILES[role].commonName(identity).replaceAll(',', ' ')
  return `C=CN, O=${identity.bureauName.replaceAll(',', ' ')}, CN=${cn}`
}

export async function issueRoleCertificate(
  identity: PkiIdentity,
  role: PkiRole,
  issuer: PkiEntry | undefined,
  now: Date,
): Promise<PkiEntry> {
  const profile = ROLE_PROFILES[role]
  const keys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const notBefore = new Date(now.getTime() - 60_000)
  const notAfter = new Date(now)
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + profile.years)
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(profile.ca, profile.pathLength, true),
    new x509.KeyUsagesExtension(profile.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ]
  if (profile.issuer === 'self') {
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerialNumber(),
      name: subjectName(identity, role),
      notBefore,
      notAfter,
      signingAlgorithm: ES256,
      keys,
      extensions,
    })
    return { certificate, privateKey: keys.privateKey }
  }
  if (!issuer?.privateKey) throw new Error(`issuing a ${role} certificate needs the private key of its issuer (${profile.issuer})`)
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate))
  // An end-entity certificate never outlives its issuer.
  const until = notAfter < issuer.certificate.notAfter ? notAfter : issuer.certificate.notAfter
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: subjectName(identity, role),
    issuer: issuer.certificate.subject,
    notBefore,
    notAfter: until,
    signingAlgorithm: ES256,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    extensions,
  })
  return { certificate, privateKey: keys.privateKey }
}

/** Completes a PKI: generates every role that is missing, issuers first. */
export async function completeRegionPki(identity: PkiIdentity, existing: Partial<RegionPki>, now: Date): Promise<{ pki: RegionPki; generated: PkiRole[] }> {
  const pki: Partial<RegionPki> = { ...existing }
  const generated: PkiRole[] = []
  for (const role of PKI_ROLES) {
    if (pki[role]) continue
    const issuerRole = ROLE_PROFILES[role].issuer
    pki[role] = await issueRoleCertificate(identity, role, issuerRole === 'self' ? undefined : pki[issuerRole], now)
    generated.push(role)
  }
  return { pki: pki as RegionPki, generated }
}
