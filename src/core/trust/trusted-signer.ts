/** A document signer the region trusts, with the evidence about its certificate gathered when its trust list was loaded. */
export interface TrustedSigner {
  kid: string
  /** The one algorithm this key signs with; a token naming another is refused. */
  alg: 'ES256' | 'EdDSA'
  publicKey: CryptoKey
  region: { code: string; name: string }
  certificate: CertificateSummary
  chain: ChainEvidence
  /** Where the issuer publishes its status lists (from its trust list): entries elsewhere are not believed. */
  statusListBase: string
}

export interface CertificateSummary {
  subject: string
  issuer: string
  serialNumber: string
  notBefore: Date
  notAfter: Date
  sha256: string
}

export interface ChainEvidence {
  /** The certificate chains, signature by signature, to a root in the trust list. */
  trusted: boolean
  /** Subjects from the signer up to the root. */
  path: string[]
  /** Validity windows of every certificate on the path, to evaluate at a time. */
  windows: Array<{ subject: string; notBefore: Date; notAfter: Date }>
  problem?: string
}
