import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { TongbanError, type ProblemDetail } from '../core/errors'

/** RFC 9457 problem details; `code` is the stable identifier clients branch on. */
export interface Problem {
  type: string
  title: string
  status: number
  code: string
  detail: string
  instance?: string
  errors?: ProblemDetail[]
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

export function problemResponse(c: Context, status: number, code: string, detail: string, errors: ProblemDetail[] = []): Response {
  const body: Problem = {
    type: `https://tongban.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    instance: new URL(c.req.url).pathname,
    ...(errors.length > 0 ? { errors } : {}),
  }
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, { 'content-type': 'application/problem+json' })
}

export function errorToProblem(error: unknown, c: Context, log: (error: unknown) => void): Response {
  if (error instanceof TongbanError && error.status !== 500) {
    return problemResponse(c, error.status, error.code, error.message, error.details)
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own body parsing, media type checks and size limits speak through HTTPException.
    if (error.status === 415) {
      const type = c.req.header('content-type')
      return problemResponse(c, 415, 'unsupported_media_type', `${type ? `Content-Type ${JSON.stringify(type)} is` : 'a body without a Content-Type is'} not accepted here; GET /openapi.json lists the media types each endpoint takes`)
    }
    const code = /json/i.test(error.message) ? 'malformed_json' : error.status === 413 ? 'body_too_large' : 'invalid_request'
    return problemResponse(c, error.status, code, error.message || 'the request could not be read')
  }
  log(error)
  return problemResponse(c, 500, 'internal_error', 'the service failed to answer; the failure is logged')
}
