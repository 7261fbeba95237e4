import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { PartnerTransport } from '../adapters/partner/partner-transport'

const REDIRECTS = new Set([301, 302, 303, 307, 308])

function flattened(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  return flat
}

/**
 * Signed partner calls on Node, over node:http and node:https with keep-alive agents, instead
 * of the global fetch: undici's fetch (WHATWG Request, Response and streams around every call,
 * on a connection it keeps alive as well) made a partner round trip 0.7-0.9 ms slower and cost
 * the two regions 1.4-1.7 ms more CPU (docs/benchmarks.md, partner verify). It does what
 * PartnerTransport promises: the answer is read whole up to its limit, a redirect is an error,
 * and the time limit covers connecting, sending and reading the whole answer.
 */
export function nodePartnerTransport(): PartnerTransport {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) }
  return (exchange) =>
    new Promise((resolve, reject) => {
      const url = new URL(exchange.url)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new Error(`${url.protocol} is not http: or https:`))
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest
      const withBody = exchange.method !== 'GET' && exchange.method !== 'HEAD'
      const headers = withBody ? { ...exchange.headers, 'content-length': String(exchange.body.length) } : exchange.headers
      const timer = setTimeout(() => fail(new Error(`no whole answer within ${exchange.timeoutMs} ms`)), exchange.timeoutMs)
      const request = send(url, { method: exchange.method, headers, agent: agents[url.protocol] }, (response) => {
        const status = response.statusCode ?? 0
        if (REDIRECTS.has(status)) return fail(new Error(`answered ${status}, a redirect, which partner calls do not follow`))
        const chunks: Buffer[] = []
        let length = 0
        response.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length > exchange.maxAnswerBytes) fail(new Error(`the answer is larger than ${exchange.maxAnswerBytes} bytes`))
          else chunks.push(chunk)
        })
        response.on('end', () => {
          clearTimeout(timer)
          resolve({ status, headers: flattened(response.headers), body: new Uint8Array(Buffer.concat(chunks)) })
        })
        response.on('close', () => {
          if (!response.complete) fail(new Error('the answer broke off'))
        })
      })
      // A failed call's connection is destroyed, never handed back to the agent half-read.
      function fail(error: Error) {
        clearTimeout(timer)
        request.destroy()
        reject(error)
      }
      request.on('error', fail)
      request.end(withBody ? exchange.body : undefined)
    })
}
