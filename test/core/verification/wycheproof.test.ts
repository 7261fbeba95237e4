import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyJwsSignature } from '../../../src/core/verification/gather'
import type { TrustedSigner } from '../../../src/core/trust/trusted-signer'
import { hexToBytes } from '../../support/jws-forge'

/**
 * Project Wycheproof vectors (test/vectors/SOURCES.md) through the verify path's signature
 * primitive, the very function gather.ts calls for every credential. Wycheproof signs raw
 * messages, a JWS signs `header.payload`; the primitive takes the signed bytes as given, so
 * each vector's message is the signing input.
 */
interface Vector {
  tcId: number
  comment: string
  flags: string[]
  msg: string
  sig: string
  result: 'valid' | 'invalid' | 'acceptable'
}
interface VectorFile {
  algorithm: string
  numberOfTests: number
  testGroups: Array<{ publicKeyDer: string; tests: Vector[] }>
}

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../vectors/wycheproof/${name}`, import.meta.url), 'utf8')) as VectorFile

// Every group carries its key as SPKI DER (some ECDSA groups have no JWK form).
const suites: Array<{ file: string; alg: TrustedSigner['alg']; importKey: (group: VectorFile['testGroups'][number]) => Promise<CryptoKey> }> = [
  {
    file: 'ecdsa_secp256r1_sha256_p1363_test.json',
    alg: 'ES256',
    importKey: (group) => crypto.subtle.importKey('spki', hexToBytes(group.publicKeyDer) as BufferSource, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']),
  },
  {
    file: 'ed25519_test.json',
    alg: 'EdDSA',
    importKey: (group) => crypto.subtle.importKey('spki', hexToBytes(group.publicKeyDer) as BufferSource, { name: 'Ed25519' }, false, ['verify']),
  },
]

for (const suite of suites) {
  describe(`Wycheproof ${suite.file} through verifyJwsSignature (${suite.alg})`, () => {
    const vectors = load(suite.file)
    const tally = { valid: 0, invalid: 0, acceptableAccepted: 0, acceptableRefused: 0 }
    const cases = vectors.testGroups.flatMap((group, g) => group.tests.map((test) => ({ g, group, test })))

    it('holds every test the file declares', () => {
      expect(cases).toHaveLength(vectors.numberOfTests)
    })

    it.each(cases.map((c) => [`tc ${c.test.tcId} ${c.test.result}: ${c.test.comment || c.test.flags.join(',')}`, c] as const))('%s', async (_, { group, test }) => {
      const signer = { alg: suite.alg, publicKey: await suite.importKey(group) }
      const holds = await verifyJwsSignature(signer, hexToBytes(test.msg), hexToBytes(test.sig))
      if (test.result === 'acceptable') {
        tally[holds ? 'acceptableAccepted' : 'acceptableRefused']++
        return
      }
      expect(holds, `tcId ${test.tcId} [${test.flags.join(', ')}]`).toBe(test.result === 'valid')
      tally[test.result]++
    })

    afterAll(() => {
      console.log(
        `wycheproof ${suite.file}: ${tally.valid} valid verified, ${tally.invalid} invalid refused, ` +
          `acceptable: ${tally.acceptableAccepted} accepted, ${tally.acceptableRefused} refused (of ${vectors.numberOfTests})`,
      )
    })
  })
}
