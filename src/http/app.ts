import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { Scalar } from '@scalar/hono-api-reference'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { AppDeps } from './deps'
import { errorToProblem, problemResponse } from './problem'
import { adminRoutes } from './routes/admin'
import { discoveryRoutes } from './routes/discovery'
import { validationHook } from './routes/hook'
import { licenceRoutes } from './routes/licences'
import { sealRoutes } from './routes/seals'
import { verifyRoutes } from './routes/verify'

const MAX_BODY_BYTES = 10 * 1024 * 1024

/** The whole HTTP service, built from its dependencies; Node and Workers entries only build the deps. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook })

  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }))
  const tooLarge = (c: Context) => problemResponse(c, 413, 'body_too_large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`)
  const countedLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge })
  // hono's bodyLimit first reads `c.req.raw.body`, which makes @hono/node-server build a full
  // Request and web stream for every request and then parse JSON through that stream: ~0.3 ms of
  // CPU per request, more than the ES256 verification itself (bench/verify.ts). A declared
  // Content-Length is checked here the way bodyLimit checks it, without touching the body; a
  // body of undeclared length (chunked) still goes through bodyLimit's counting stream.
  app.use('*', (c, next) => {
    const length = c.req.header('content-length')
    const chunked = c.req.header('transfer-encoding') !== undefined
    if (!chunked && length !== undefined && /^\d+$/.test(length)) return Number(length) > MAX_BODY_BYTES ? Promise.resolve(tooLarge(c)) : next()
    if (!chunked && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next()
    return countedLimit(c, next)
  })

  app.route('/', discoveryRoutes(deps, validationHook))
  app.route('/', verifyRoutes(deps, validationHook))
  app.route('/', licenceRoutes(deps, validationHook))
  app.route('/', sealRoutes(deps, validationHook))
  app.route('/', adminRoutes(deps, validationHook))

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
