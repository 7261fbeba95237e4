import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import { UnsupportedMediaTypeError } from '../../core/errors'
import { jwsOfQrText } from '../../core/licence/qr-payload'
import { verifyCredential } from '../../core/verification/verify-credential'
import type { AppDeps } from '../deps'
import { problems, VerificationReportSchema, VerifyRequestSchema } from '../schemas'
import type { Hook } from './hook'

export function verifyRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono({ defaultHook: hook })

  app.use('/v1/verify', async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (c.req.method === 'POST' && type !== 'application/json') {
      throw new UnsupportedMediaTypeError(`send application/json ({ "credential": … } or { "qr": … }); got ${type || 'no Content-Type'}`)
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
      request: { body: { content: { 'application/json': { schema: VerifyRequestSchema } }, required: true } },
      responses: { 200: { description: 'Verification report', content: { 'application/json': { schema: VerificationReportSchema } } }, ...problems(400, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
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
