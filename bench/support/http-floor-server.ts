import { Agent, createServer, request, type IncomingMessage } from 'node:http'
import { compactVerify, importJWK } from 'jose'
import type { FloorSetting } from './http-floor'

/**
 * A floor for the benches, as a child process of its own: bare `node:http` doing only the work a
 * bench's endpoint cannot do without, and sending back an answer given in advance. No routing,
 * validation, checks, report building, database or logging: what that work costs over HTTP in
 * Node before any code of tongban's runs.
 *
 * - `verify`: read the body, parse it, jose's compactVerify of its credential, answer.
 * - `partner-owner`: check the caller's ECDSA signature over the body and the credential (at
 *   once), sign the answer, answer with its signature.
 * - `partner-asker`: sign the body, send it to the owner over a kept-alive connection, check the
 *   owner's signature over its answer, pass the answer on.
 */
const setting = JSON.parse(process.env.HTTP_FLOOR ?? '{}') as FloorSetting
const documentSigner = await importJWK(setting.documentSigner, 'ES256')
const answer = Buffer.from(setting.answer)
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' }
const P256 = { name: 'ECDSA', namedCurve: 'P-256' }
const asker = setting.partnerKeys && {
  privateKey: await crypto.subtle.importKey('jwk', setting.partnerKeys.asker.privateKey, P256, false, ['sign']),
  publicKey: await crypto.subtle.importKey('jwk', setting.partnerKeys.asker.publicKey, P256, false, ['verify']),
}
const owner = setting.partnerKeys && {
  privateKey: await crypto.subtle.importKey('jwk', setting.partnerKeys.owner.privateKey, P256, false, ['sign']),
  publicKey: await crypto.subtle.importKey('jwk', setting.partnerKeys.owner.publicKey, P256, false, ['verify']),
}
const agent = new Agent({ keepAlive: true })

function bodyOf(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    message.on('data', (chunk: Buffer) => chunks.push(chunk))
    message.on('end', () => resolve(Buffer.concat(chunks)))
    message.on('error', reject)
  })
}

const verifyCredential = (body: Buffer) => compactVerify((JSON.parse(body.toString('utf8')) as { credential: string }).credential, documentSigner, { algorithms: ['ES256'] })
const sign = async (key: CryptoKey, bytes: Buffer) => Buffer.from(await crypto.subtle.sign(ECDSA, key, bytes as BufferSource)).toString('base64')
const signatureValid = (key: CryptoKey, signature: string | string[] | undefined, bytes: Buffer) =>
  crypto.subtle.verify(ECDSA, key, Buffer.from(String(signature), 'base64') as BufferSource, bytes as BufferSource)

function askOwner(body: Buffer, signature: string): Promise<{ body: Buffer; signature: string | string[] | undefined }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': body.length, signature }
    request(setting.ownerUrl as string, { method: 'POST', agent, headers }, (response) => bodyOf(response).then((answered) => resolve({ body: answered, signature: response.headers.signature }), reject))
      .on('error', reject)
      .end(body)
  })
}

async function answerFor(incoming: IncomingMessage, body: Buffer): Promise<{ body: Buffer; signature?: string }> {
  switch (setting.role) {
    case 'verify':
      await verifyCredential(body)
      return { body: answer }
    case 'partner-owner': {
      const [valid] = await Promise.all([signatureValid(asker!.publicKey, incoming.headers.signature, body), verifyCredential(body)])
      if (!valid) throw new Error('the caller signature does not verify')
      return { body: answer, signature: await sign(owner!.privateKey, answer) }
    }
    case 'partner-asker': {
      const answered = await askOwner(body, await sign(asker!.privateKey, body))
      if (!(await signatureValid(owner!.publicKey, answered.signature, answered.body))) throw new Error('the owner signature does not verify')
      return { body: answered.body }
    }
  }
}

const server = createServer((incoming, response) => {
  bodyOf(incoming)
    .then((body) => answerFor(incoming, body))
    .then(
      (answered) => response.writeHead(200, { 'content-type': 'application/json', 'content-length': answered.body.length, ...(answered.signature ? { signature: answered.signature } : {}) }).end(answered.body),
      () => response.writeHead(422).end(),
    )
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
