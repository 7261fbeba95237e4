import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodePartnerTransport } from '../../src/runtime/node-partner-transport'

type Handler = (request: IncomingMessage, body: Buffer, response: ServerResponse) => void
let server: Server
let base: string
let handle: Handler = () => {}
const sockets = new Set<unknown>()

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => handle(request, Buffer.concat(chunks), response))
  })
  server.on('connection', (socket) => sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const exchange = (path: string, options: { method?: string; body?: string; timeoutMs?: number; maxAnswerBytes?: number } = {}) => ({
  method: options.method ?? 'POST',
  url: `${base}${path}`,
  headers: { 'content-type': 'application/json', 'signature-input': 'tongban=()' },
  body: new TextEncoder().encode(options.body ?? ''),
  timeoutMs: options.timeoutMs ?? 2_000,
  maxAnswerBytes: options.maxAnswerBytes ?? 1_000,
})

describe('signed partner calls over node:http', () => {
  const send = nodePartnerTransport()

  it('sends the method, headers and body as given, and reads the whole answer with its headers in lower case', async () => {
    handle = (request, body, response) => {
      response.writeHead(201, { 'Content-Type': 'application/json', 'Content-Digest': 'sha-256=:x:', 'X-Seen': `${request.method} ${request.url} ${request.headers['signature-input']} ${body.toString()}` })
      response.end('{"ok":true}')
    }
    const reply = await send(exchange('/v1/partner/verify', { body: '{"credential":"a.b.c"}' }))
    expect(reply.status).toBe(201)
    expect(reply.headers['content-digest']).toBe('sha-256=:x:')
    expect(reply.headers['x-seen']).toBe('POST /v1/partner/verify tongban=() {"credential":"a.b.c"}')
    expect(new TextDecoder().decode(reply.body)).toBe('{"ok":true}')
  })

  it('keeps its connection for the next call', async () => {
    handle = (_request, _body, response) => response.end('again')
    sockets.clear()
    for (let i = 0; i < 5; i++) await send(exchange('/again'))
    expect(sockets.size).toBeLessThanOrEqual(1)
  })

  it('refuses an answer larger than allowed, with or without a length declared', async () => {
    handle = (request, _body, response) => {
      if (request.url === '/declared') response.writeHead(200, { 'content-length': '1200' })
      response.write('x'.repeat(600))
      response.end('y'.repeat(600))
    }
    await expect(send(exchange('/chunked'))).rejects.toThrow(/larger than 1000 bytes/)
    await expect(send(exchange('/declared'))).rejects.toThrow(/larger than 1000 bytes/)
  })

  it('refuses a redirect rather than following it', async () => {
    handle = (_request, _body, response) => {
      response.writeHead(307, { location: 'http://elsewhere.test/v1/partner/verify' })
      response.end()
    }
    await expect(send(exchange('/moved'))).rejects.toThrow(/redirect/)
  })

  it('gives up when the whole answer does not come in time, and when nobody listens', async () => {
    handle = (_request, _body, response) => {
      response.writeHead(200)
      response.write('part of it')
    }
    await expect(send(exchange('/slow', { timeoutMs: 200 }))).rejects.toThrow(/no whole answer within 200 ms/)
    await expect(send({ ...exchange('/'), url: 'http://127.0.0.1:9/nobody' })).rejects.toThrow()
  })
})
