import { createServer } from 'node:http'
import { compactVerify, importJWK, type JWK } from 'jose'

/**
 * The verify bench's floor, as a child process of its own: `node:http` reads the body, parses
 * the JSON, runs jose's compactVerify with the published key and answers the service's own report
 * for that credential, given in advance. No routing, no validation, no checks, no report built:
 * what answering a verification over HTTP costs in Node before any code of tongban's runs.
 */
const { jwk, answer } = JSON.parse(process.env.HTTP_FLOOR ?? '{}') as { jwk: JWK; answer: string }
const key = await importJWK(jwk, 'ES256')
const body = Buffer.from(answer)

const server = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const { credential } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { credential: string }
    compactVerify(credential, key, { algorithms: ['ES256'] }).then(
      () => response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body),
      () => response.writeHead(422).end(),
    )
  })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
