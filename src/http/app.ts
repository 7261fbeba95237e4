import { OpenAPIHono } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { AppDeps } from './deps'
import { errorToProblem, problemResponse } from './problem'
import { discoveryRoutes } from './routes/discovery'
import { validationHook } from './routes/hook'
import { licenceRoutes } from './routes/licences'
import { verifyRoutes } from './routes/verify'

const MAX_BODY_BYTES = 10 * 1024 * 1024

/** The whole HTTP service, built from its dependencies; Node and Workers entries only build the deps. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook })

  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }))
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => problemResponse(c, 413, 'body_too_large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`),
    }),
  )

  app.route('/', discoveryRoutes(deps, validationHook))
  app.route('/', verifyRoutes(deps, validationHook))
  app.route('/', licenceRoutes(deps, validationHook))

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' })
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'tongban (通办)',
      version: '1.0.0',
      description: `Licence and seal service of ${deps.region.name} (${deps.region.code}). Errors are RFC 9457 problem+json with a stable code.`,
    },
    servers: [{ url: deps.publicUrl }],
  })
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'tongban API' }))

  app.notFound((c) => problemResponse(c, 404, 'not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`))
  app.onError((error, c) => errorToProblem(error, c, (e) => deps.log.error({ err: e, path: c.req.path }, 'unhandled error')))
  return app
}
