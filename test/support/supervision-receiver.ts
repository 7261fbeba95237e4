import { createServer, type Server } from 'node:http'
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, exportJWK, generateKeyPair, importX509, type JWK } from 'jose'
import { verifyTrustList } from '../../src/adapters/crypto/trust-list'
import { kidOf } from '../../src/adapters/crypto/jws-signer'
import { x509 } from '../../src/adapters/crypto/x509'
import type { SigningKey } from '../../src/adapters/crypto/http-signatures'

/** What a supervision system keeps of one event, after checking its signature. */
export interface ReceivedEvent {
  jti: string
  seq: number
  type: string
  aud: string
  iss: string
  licence: { id: string; number: string; version: number; type: { key: string; code: string; name: string }; holder: Record<string, unknown>; status: string }
  previous?: { id: string; number: string; version: number }
  reason: string | null
  actor: string
  occurredAt: string
  /** The raw JWS, for checks with another implementation. */
  jws: string
  messageIdHeader: string | undefined
}

/**
 * How the receiver answers: `up` takes events, `down` answers 503 without reading, `lose-answer`
 * takes the next event and then answers 503 once, as if the acknowledgement were lost.
 */
export type ReceiverMode = 'up' | 'down' | 'lose-answer'

export interface SupervisionReceiver {
  url: string
  mode: ReceiverMode
  /** Every POST that arrived, duplicates and refusals included. */
  arrivals: number
  /** Events taken, once each: deduplicated on `jti`, as contracts/supervision.md tells receivers to. */
  events: ReceivedEvent[]
  /** Deliveries that failed verification, with why. */
  refused: string[]
  duplicates: number
  waitFor(predicate: (r: SupervisionReceiver) => boolean, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/**
 * A supervision system's webhook on 127.0.0.1, built the way contracts/supervision.md tells one
 * to be: it trusts the region through its trust list alone (checked against the pinned root),
 * verifies each event with jose (ES256, typ tongban-event+jwt, the attestation-signer key of
 * that list named by `kid`, its own name as `aud`), and deduplicates on `jti`.
 */
export async function startSupervisionReceiver(options: { name: string; trustList: () => Promise<string>; rootFingerprint: string; port?: number }): Promise<SupervisionReceiver> {
  const seen = new Set<string>()
  const receiver: SupervisionReceiver = {
    url: '',
    mode: 'up',
    arrivals: 0,
    events: [],
    refused: [],
    duplicates: 0,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(receiver)) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms (arrivals ${receiver.arrivals}, events ${receiver.events.length}, refused ${receiver.refused.join('; ')})`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }

  async function verify(jws: string): Promise<ReceivedEvent> {
    const header = decodeProtectedHeader(jws)
    if (header.typ !== 'tongban-event+jwt' || header.alg !== 'ES256') throw new Error(`header ${JSON.stringify(header)}`)
    const list = await verifyTrustList(await options.trustList(), options.rootFingerprint, new Date())
    const entry = list.certificates.find((c) => c.role === 'attestation-signer' && c.kid === header.kid)
    if (!entry) throw new Error(`kid ${String(header.kid)} is not an attestation-signer of the trust list`)
    const pem = `-----BEGIN CERTIFICATE-----\n${entry.certificate.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----`
    const { payload } = await compactVerify(jws, await importX509(pem, 'ES256'), { algorithms: ['ES256'] })
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Omit<ReceivedEvent, 'jws' | 'messageIdHeader'>
    if (claims.aud !== options.name) throw new Error(`aud ${claims.aud} is not ${options.name}`)
    return { ...claims, jws, messageIdHeader: undefined }
  }

  const server: Server = createServer((req, res) => {
    receiver.arrivals += 1
    if (receiver.mode === 'down') {
      req.resume()
      res.writeHead(503).end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const jws = Buffer.concat(chunks).toString('utf8')
      verify(jws)
        .then((event) => {
          event.messageIdHeader = req.headers['tongban-message-id'] as string | undefined
          if (seen.has(event.jti)) receiver.duplicates += 1
          else {
            seen.add(event.jti)
            receiver.events.push(event)
          }
          if (receiver.mode === 'lose-answer') {
            receiver.mode = 'up'
            res.writeHead(503).end()
          } else res.writeHead(204).end()
        })
        .catch((error: unknown) => {
          receiver.refused.push((error as Error).message)
          res.writeHead(400).end()
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()))
  const address = server.address()
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/events`
  return receiver
}

/** A supervision system's own P-256 key pair: the public JWK to register, and the key it signs its calls with. */
export async function supervisionKeyPair(): Promise<{ publicJwk: JWK; signingKey: SigningKey; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  return { publicJwk: jwk, privateJwk: await exportJWK(privateKey), signingKey: { keyid: await calculateJwkThumbprint(jwk, 'sha256'), privateKey } }
}

/** The attestation-signer's public JWK, as a supervision system would take it from the trust list (for the jose CLI). */
export async function attestationJwk(certificate: x509.X509Certificate): Promise<JWK> {
  const jwk = await exportJWK(await certificate.publicKey.export())
  return { ...jwk, kid: await kidOf(certificate), alg: 'ES256' }
}
