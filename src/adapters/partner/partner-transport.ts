import { readLimited } from './fetch-text'

/** One signed partner request as it goes on the wire. */
export interface PartnerExchange {
  method: string
  url: string
  headers: Record<string, string>
  body: Uint8Array
  timeoutMs: number
  /** A longer answer is cut off and refused, however it declared its length. */
  maxAnswerBytes: number
}

/** The partner's answer, read whole; header names in lower case. */
export interface PartnerReply {
  status: number
  headers: Record<string, string>
  body: Uint8Array
}

/**
 * Sends a partner request and reads its whole answer. A redirect is never followed (a
 * partner's API is where its signed trust list says it is); no answer within the time, a
 * larger one than allowed, or a redirect is thrown as an error.
 */
export type PartnerTransport = (exchange: PartnerExchange) => Promise<PartnerReply>

/** Over the Fetch API, which every runtime has; tests route it to apps in the same process. */
export function fetchTransport(fetcher: typeof fetch): PartnerTransport {
  return async (exchange) => {
    const response = await fetcher(exchange.url, {
      method: exchange.method,
      headers: exchange.headers,
      ...(exchange.method === 'GET' || exchange.method === 'HEAD' ? {} : { body: exchange.body as BodyInit }),
      redirect: 'error',
      signal: AbortSignal.timeout(exchange.timeoutMs),
    })
    const body = await readLimited(response, exchange.maxAnswerBytes, exchange.url)
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    return { status: response.status, headers, body }
  }
}
