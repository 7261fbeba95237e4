import { exportJWK } from 'jose'
import type { Clock, Jwk, Publication, Store } from '../../core/ports'
import { kidOf, publicCryptoKey } from './jws-signer'
import type { RegionPki } from './pki'
import { signTrustList, type TrustListContent } from './trust-list'
import { sha256Hex } from '../../core/digest'
import { base64Der, certificateFingerprint } from './x509'

const TRUST_LIST_DAYS = 7
const DAY = 86_400_000

/**
 * Publishes the region's trust list and JWKS. The signed trust list is kept in the database so
 * that every process serves the same sequence; a new one (sequence + 1) is signed when the
 * content changed (a new key, a new role) or half its validity has passed.
 */
export async function createPublication(pki: RegionPki, content: TrustListContent, store: Store, clock: Clock): Promise<Publication> {
  const contentHash = await sha256Hex(JSON.stringify(content))
  let current: { jws: string; refreshAfter: number } | undefined

  async function trustList(): Promise<string> {
    const now = clock.now()
    if (current && now.getTime() < current.refreshAfter) return current.jws
    const stored = await store.getTrustListState()
    const halfLife = (TRUST_LIST_DAYS * DAY) / 2
    if (stored && stored.contentHash === contentHash && stored.validUntil.getTime() - now.getTime() > halfLife) {
      current = { jws: stored.jws, refreshAfter: stored.validUntil.getTime() - halfLife }
      return stored.jws
    }
    const validUntil = new Date(now.getTime() + TRUST_LIST_DAYS * DAY)
    const sequence = (stored?.sequence ?? 0) + 1
    const jws = await signTrustList(pki, { ...content, sequence, issuedAt: now.toISOString(), validUntil: validUntil.toISOString() })
    if (!(await store.saveTrustListState({ sequence, contentHash, jws, validUntil }))) {
      // Another process published this sequence first: serve its list, so one sequence means one list.
      const winner = (await store.getTrustListState()) as NonNullable<typeof stored>
      current = { jws: winner.jws, refreshAfter: winner.validUntil.getTime() - halfLife }
      return winner.jws
    }
    current = { jws, refreshAfter: validUntil.getTime() - halfLife }
    return jws
  }

  const signer = pki['document-signer'].certificate
  const jwk = {
    ...(await exportJWK(await publicCryptoKey(signer))),
    kid: await kidOf(signer),
    alg: 'ES256',
    use: 'sig' as const,
    x5c: [base64Der(signer), base64Der(pki['issuing-ca'].certificate), base64Der(pki.root.certificate)],
  } as Jwk

  return {
    trustList,
    jwks: async () => ({ keys: [jwk] }),
    rootFingerprint: await certificateFingerprint(pki.root.certificate),
  }
}
