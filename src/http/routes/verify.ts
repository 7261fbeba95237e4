import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { InvalidRequestError, NotAPdfError, UnsupportedMediaTypeError } from '../../core/errors'
import { jwsOfQrText } from '../../core/licence/qr-payload'
import { verifyCredential } from '../../core/verification/verify-credential'
import { verifyPdf } from '../../core/verification/verify-pdf'
import type { AppDeps } from '../deps'
import { problems, VerificationReportSchema, VerifyRequestSchema } from '../schemas'
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

export function verifyRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono({ defaultHook: hook })

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
