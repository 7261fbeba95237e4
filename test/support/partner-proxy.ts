import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the proxy does with one request. */
export type ProxyAction =
  /** Passes it on and its answer back. */
  | 'pass'
  /** Answers 503 itself: the region behind never sees it. */
  | 'refuse'
  /** Passes it on, lets the region behind answer, then drops the connection: the sender never hears the answer. */
  | 'lose-answer'

export interface ProxiedRequest {
  method: string
  path: string
  body: Buffer
}

export interface PartnerProxy {
  /** The proxy's own URL: the PUBLIC_URL of the region behind it. */
  url: string
  /** Where requests go: the region's real URL, set once it listens. */
  target: string
  /** Decides each request; `pass` unless set. */
  rule: (request: ProxiedRequest) => ProxyAction
  /** Every request seen, in arrival order, with what was done with it and what the region answered (lost or not). */
  readonly seen: Array<ProxiedRequest & { action: ProxyAction; answer?: { status: number; body: string } }>
  close(): Promise<void>
}

async function read(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * A reverse proxy on 127.0.0.1 in front of a region process, standing for the network between
 * two regions: it can refuse a request, or pass it and lose the answer, so tests can make
 * deliveries fail, repeat and arrive out of order between real processes. It changes nothing it
 * passes, so RFC 9421 signatures over the region's public URL stay valid.
 */
export async function startPartnerProxy(): Promise<PartnerProxy> {
  const seen: PartnerProxy['seen'] = []
  const proxy: PartnerProxy = {
    url: '',
    target: '',
    rule: () => 'pass',
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await read(request)
      const proxied = { method: request.method ?? 'GET', path: request.url ?? '/', body }
      const action = proxy.rule(proxied)
      const record: PartnerProxy['seen'][number] = { ...proxied, action }
      seen.push(record)
      if (action === 'refuse') {
        response.writeHead(503, { 'content-type': 'text/plain' }).end('refused by the test proxy')
        return
      }
      const headers = new Headers()
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value)
      const answer = await fetch(`${proxy.target}${proxied.path}`, { method: proxied.method, headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}), redirect: 'manual' })
      const bytes = Buffer.from(await answer.arrayBuffer())
      record.answer = { status: answer.status, body: bytes.toString() }
      if (action === 'lose-answer') {
        response.socket?.destroy()
        return
      }
      const out: Record<string, string> = {}
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') out[name] = value
      })
      response.writeHead(answer.status, out).end(bytes)
    })().catch(() => response.socket?.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return proxy
}

/** The step an application event request carries (`POST /v1/partner/events`), read from its JWS; undefined for any other request. */
export function eventStepOf(request: ProxiedRequest): { applicationId: string; sequence: number } | undefined {
  if (request.method !== 'POST' || request.path !== '/v1/partner/events') return undefined
  const { event } = JSON.parse(request.body.toString()) as { event: string }
  const claims = JSON.parse(Buffer.from(event.split('.')[1] ?? '', 'base64url').toString()) as { applicationId: string; event: { sequence: number } }
  return { applicationId: claims.applicationId, sequence: claims.event.sequence }
}
