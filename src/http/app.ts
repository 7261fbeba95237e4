import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { Scalar } from '@scalar/hono-api-reference'
import { bodyLimit } from 'hono/body-limit'
import type { AppDeps } from './deps'
import { errorToProblem, problemResponse } from './problem'
import { adminRoutes } from './routes/admin'
import { agreementRoutes } from './routes/agreements'
import { auditRoutes } from './routes/audit'
import { discoveryRoutes } from './routes/discovery'
import { validationHook } from './routes/hook'
import { licenceRoutes } from './routes/licences'
import { matterRoutes } from './routes/matters'
import { applicationRoutes } from './routes/applications'
import { attachmentRoutes } from './routes/attachments'
import { partnerApiRoutes } from './routes/partner-api'
import { partnerAdminRoutes } from './routes/partners'
import { sealRoutes } from './routes/seals'
import { supervisionRoutes } from './routes/supervision'
import { verifyRoutes } from './routes/verify'
import { bankRoutes } from './routes/bank'
import { bankApplicationRoutes } from './routes/bank-applications'
import { holderRoutes } from './routes/holder'
import { holderAdminRoutes } from './routes/holder-admin'
import { pageRoutes } from './routes/pages'

const MAX_BODY_BYTES = 10 * 1024 * 1024

/**
 * The headers hono's `secureHeaders({ crossOriginResourcePolicy: 'cross-origin' })` sets on every
 * answer, spelled out. That middleware copies each answer's headers into a WHATWG `Headers` after
 * the handler and sets these eleven on it: about 15 µs of the main thread per request, 5 % of a
 * verification through the endpoint (bench/verify.ts). Answers made by `securedJson` carry them
 * from the start as plain header fields and are left alone; every other answer gets them after
 * its handler, as before.
 */
const SECURE_HEADERS: Record<string, string> = {
  'cross-origin-resource-policy': 'cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}
const SECURED_JSON_HEADERS = { 'content-type': 'application/json', ...SECURE_HEADERS }
const securedAnswers = new WeakSet<Response>()

/** A 200 JSON answer with the secure headers already on it. */
function securedJson(body: unknown): Response {
  const response = new Response(JSON.stringify(body), { status: 200, headers: SECURED_JSON_HEADERS })
  securedAnswers.add(response)
  return response
}

/** The whole HTTP service, built from its dependencies; Node and Workers entries only build the deps. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook })

  app.use('*', async (c, next) => {
    await next()
    if (securedAnswers.has(c.res)) return
    const headers = c.res.headers
    for (const name in SECURE_HEADERS) headers.set(name, SECURE_HEADERS[name] as string)
    headers.delete('X-Powered-By')
  })
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
  app.route('/', verifyRoutes(deps, validationHook, securedJson))
  app.route('/', licenceRoutes(deps, validationHook))
  app.route('/', sealRoutes(deps, validationHook))
  app.route('/', adminRoutes(deps, validationHook))
  app.route('/', matterRoutes(deps, validationHook))
  app.route('/', attachmentRoutes(deps, validationHook))
  app.route('/', applicationRoutes(deps, validationHook))
  app.route('/', partnerAdminRoutes(deps, validationHook))
  app.route('/', agreementRoutes(deps, validationHook))
  app.route('/', partnerApiRoutes(deps, validationHook))
  app.route('/', auditRoutes(deps, validationHook))
  app.route('/', holderAdminRoutes(deps, validationHook))
  app.route('/', holderRoutes(deps, validationHook))
  app.route('/', bankRoutes(deps, validationHook))
  app.route('/', bankApplicationRoutes(deps, validationHook))
  app.route('/', pageRoutes(deps))
  app.route('/', supervisionRoutes(deps, validationHook))

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'holderAuth', { type: 'http', scheme: 'bearer', description: 'A holder credential (tbh_…) from POST /v1/admin/holder-credentials' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bankAuth', { type: 'http', scheme: 'bearer', description: 'A bank credential (tbb_…) from POST /v1/admin/relying-parties' })
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
