import { TongbanError } from '../../core/errors'
import { concatBytes } from '../bytes'

/** A partner that cannot be reached, or answers with something other than what was asked for. */
export class PartnerUnreachableError extends TongbanError {
  readonly code = 'partner_unreachable'
  readonly status = 502
}

export const PARTNER_TIMEOUT_MS = 5_000

/**
 * GETs a partner document (descriptor, trust list, status list) with a time limit and a size
 * limit, so that a slow or hostile partner cannot hold a request or exhaust memory.
 */
export async function fetchText(fetcher: typeof fetch, url: string, options: { accept: string; maxBytes: number; timeoutMs?: number }): Promise<string> {
  let response: Response
  try {
    response = await fetcher(url, { headers: { accept: options.accept }, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? PARTNER_TIMEOUT_MS) })
  } catch (cause) {
    throw new PartnerUnreachableError(`${url} could not be fetched: ${(cause as Error).message}`, { cause })
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new PartnerUnreachableError(`${url} answered ${response.status}`)
  }
  const length = Number(response.headers.get('content-length') ?? '0')
  if (length > options.maxBytes) {
    await response.body?.cancel()
    throw new PartnerUnreachableError(`${url} is larger than ${options.maxBytes} bytes`)
  }
  const bytes = await readLimited(response, options.maxBytes, url)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (cause) {
    throw new PartnerUnreachableError(`${url} is not UTF-8 text`, { cause })
  }
}

/** Reads a body up to a limit; a longer one is cut off and refused, however it declared its length. */
export async function readLimited(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const reader = response.body?.getReader()
  if (!reader) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>
    try {
      chunk = await reader.read()
    } catch (cause) {
      throw new PartnerUnreachableError(`${what}: the answer broke off: ${(cause as Error).message}`, { cause })
    }
    if (chunk.done) break
    total += chunk.value.length
    if (total > maxBytes) {
      await reader.cancel()
      throw new PartnerUnreachableError(`${what}: the answer is larger than ${maxBytes} bytes`)
    }
    chunks.push(chunk.value)
  }
  return concatBytes(chunks)
}
