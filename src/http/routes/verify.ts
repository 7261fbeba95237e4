import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { InvalidRequestError, NotAPdfError, UnsupportedMediaTypeError } from '../../core/errors'
import { jwsOfQrText } from '../../core/licence/qr-payload'
import { verifyCredential } from '../../core/verification/verify-credential'
import { verifyPdf } from '../../core/verification/verify-pdf'
import type { AppDeps } from '../deps'
import { MAX_CREDENTIAL_LENGTH, problems, VerificationReportSchema, VerifyRequestSchema } from '../schemas'
import type { Hook } from './hook'

const PDF_HEADER = new TextEncoder().encode('%PDF-')

/** PDF readers accept the header anywhere in the first 1024 bytes; so does this. */
function looksLikePdf(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 1024) - PDF_HEADER.length
  for (let i = 0; i <= end; i++) if (PDF_HEADER.every((b, j) => bytes[i + j] === b)) return true
  return false
}

function atParameter(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const at = new Date(value)
  if (Number.isNaN(at.getTime())) throw new InvalidRequestError('at must be an ISO 8601 date-time', { details: [{ message: 'bad at' }] })
  return at
}

/** The JSON media types the route's OpenAPI validation lets through to its schema (as @hono/zod-openapi matches them). */
const JSON_REQUEST = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i

/** The credential of a body that is `{ "credential": "<1 to 65536 characters>" }` and nothing else. */
function credentialOnly(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  let members = 0
  for (const name in body) if (++members > 1 || name !== 'credential') return undefined
  const { credential } = body as { credential?: unknown }
  return typeof credential === 'string' && credential.length >= 1 && credential.length <= MAX_CREDENTIAL_LENGTH ? credential : undefined
}

/** `json` answers 200 with a JSON body; the app passes one that carries its secure headers from the start. */
export function verifyRoutes(deps: AppDeps, hook: Hook, json: (body: unknown) => Response) {
  const app = new OpenAPIHono({ defaultHook: hook })

  /**
   * Nearly every verify request is `{ "credential": "<jws>" }`: a body VerifyRequestSchema
   * accepts as it stands. That one shape is answered here, before the route's media-type gate
   * and zod validation (a few per cent of the main thread per request, docs/benchmarks.md); the
   * storable-text hook still runs. Every other body, and every body that is not JSON, goes on to
   * the media-type gate and the schema, so its 400, 415 and 422 problems are theirs as before.
   */
  const credentialFastPath: MiddlewareHandler = async (c, next) => {
    if (!JSON_REQUEST.test(c.req.header('content-type') ?? '')) return next()
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return next()
    }
    const credential = credentialOnly(body)
    if (credential === undefined) return next()
    const refused = hook({ success: true, data: body, target: 'json' }, c)
    if (refused) return refused
    return json(await verifyCredential(deps.verifier, credential.trim(), { at: deps.clock.now() }))
  }

  app.use('/v1/verify', async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (c.req.method === 'POST' && type === 'application/pdf') {
      const bytes = new Uint8Array(await c.req.arrayBuffer())
      if (!looksLikePdf(bytes)) throw new NotAPdfError('the body is not a PDF: it has no %PDF- header in its first 1024 bytes')
      const at = atParameter(c.req.query('at')) ?? deps.clock.now()
      return c.json(await verifyPdf(deps.pdfVerifier, bytes, { at }), 200)
    }
    if (c.req.method === 'POST' && type !== 'application/json') {
      throw new UnsupportedMediaTypeError(`send application/json ({ "credential": … } or { "qr": … }) or application/pdf; got ${type || 'no Content-Type'}`)
    }
    await next()
  })

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/verify',
      middleware: [credentialFastPath] as const,
      tags: ['verification'],
      summary: 'Verify a licence credential and report every check',
      description:
        'Gathers evidence, then evaluates it under the policy at `at` (default now). A credential that fails is still a 200 report with indication TOTAL_FAILED or INDETERMINATE; a body that is not a verify request is a 400 problem.',
      request: {
        body: {
          content: {
            'application/json': { schema: VerifyRequestSchema },
            'application/pdf': { schema: z.string().openapi({ format: 'binary', description: 'A signed PDF: every signature and the licence it carries are verified (?at= to evaluate at a time)' }) },
          },
          required: true,
        },
      },
      responses: { 200: { description: 'Verification report', content: { 'application/json': { schema: VerificationReportSchema } } }, ...problems(400, 415, 422) },
    }),
    async (c) => {
      // PDFs were answered by the middleware above: what reaches here is the JSON body.
      const body = c.req.valid('json') as z.infer<typeof VerifyRequestSchema>
      const at = body.at ? new Date(body.at) : deps.clock.now()
      const report =
        body.qr !== undefined
          ? await verifyCredential(deps.verifier, jwsOfQrText(body.qr), { at, format: 'qr' })
          : await verifyCredential(deps.verifier, (body.credential as string).trim(), { at })
      return c.json(report, 200)
    },
  )
  return app
}
