import { calculateJwkThumbprint, CompactSign, exportJWK } from 'jose'
import type { JwsSigner } from '../../core/ports'
import type { PkiEntry } from './pki'
import type { x509 } from './x509'

const encoder = new TextEncoder()

export async function publicCryptoKey(certificate: x509.X509Certificate): Promise<CryptoKey> {
  return certificate.publicKey.export()
}

/** A signer's kid is the RFC 7638 thumbprint of its public key: stable, and says nothing else. */
export async function kidOf(certificate: x509.X509Certificate): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(await publicCryptoKey(certificate)), 'sha256')
}

export async function createJwsSigner(entry: PkiEntry, extraHeader: Record<string, unknown> = {}): Promise<JwsSigner> {
  const { privateKey } = entry
  if (!privateKey) throw new Error(`no private key for ${entry.certificate.subject}`)
  const kid = await kidOf(entry.certificate)
  return {
    kid,
    alg: 'ES256',
    async sign(payload, header) {
      return new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ ...extraHeader, ...header, alg: 'ES256', kid })
        .sign(privateKey)
    },
  }
}
