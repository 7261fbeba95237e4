import type { ChainEvidence } from '../../core/trust/trusted-signer'
import { x509 } from './x509'

const MAX_PATH = 5

function isCa(certificate: x509.X509Certificate): boolean {
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension)
  const usage = certificate.getExtension(x509.KeyUsagesExtension)
  return Boolean(constraints?.ca) && (!usage || (usage.usages & x509.KeyUsageFlags.keyCertSign) !== 0)
}

async function signedBy(certificate: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (certificate.issuer !== issuer.subject) return false
  try {
    // signatureOnly: validity windows are evidence evaluated later, at the policy's time.
    return await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true })
  } catch {
    return false
  }
}

/**
 * Builds the path from a certificate to one of the trusted roots, checking each signature and
 * that every issuer is a CA. Validity windows are returned, not judged, so that a policy can
 * evaluate them at its own time.
 */
export async function buildChain(
  leaf: x509.X509Certificate,
  intermediates: x509.X509Certificate[],
  roots: x509.X509Certificate[],
): Promise<ChainEvidence> {
  const path = [leaf]
  let current = leaf
  for (let depth = 0; depth < MAX_PATH; depth++) {
    for (const root of roots) {
      if (await signedBy(current, root)) {
        if (!isCa(root)) break
        path.push(...(current === root ? [] : [root]))
        const tooDeep = pathLengthViolation(path)
        return tooDeep ? evidence(path, false, tooDeep) : evidence(path, true)
      }
    }
    let next: x509.X509Certificate | undefined
    for (const candidate of intermediates) {
      if (candidate !== current && !path.includes(candidate) && (await signedBy(current, candidate))) {
        next = candidate
        break
      }
    }
    if (!next) return evidence(path, false, `no trusted issuer found for ${current.subject}`)
    if (!isCa(next)) return evidence(path, false, `${next.subject} is not a CA`)
    path.push(next)
    current = next
  }
  return evidence(path, false, 'the path is longer than allowed')
}

/**
 * RFC 5280 §4.2.1.9: a CA's pathLenConstraint bounds how many intermediate CAs may follow it
 * below; path[i] has i − 1 CAs between it and the end-entity certificate path[0].
 */
function pathLengthViolation(path: x509.X509Certificate[]): string | undefined {
  for (let i = 1; i < path.length; i++) {
    const limit = (path[i] as x509.X509Certificate).getExtension(x509.BasicConstraintsExtension)?.pathLength
    if (limit !== undefined && i - 1 > limit) return `${(path[i] as x509.X509Certificate).subject} allows ${limit} CA(s) below it, the path has ${i - 1}`
  }
  return undefined
}

function evidence(path: x509.X509Certificate[], trusted: boolean, problem?: string): ChainEvidence {
  return {
    trusted,
    path: path.map((c) => c.subject),
    windows: path.map((c) => ({ subject: c.subject, notBefore: c.notBefore, notAfter: c.notAfter })),
    ...(problem ? { problem } : {}),
  }
}
