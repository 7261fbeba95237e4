import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { NotFoundError } from '../../core/errors'
import type { AppDeps } from '../deps'
import { problems } from '../schemas'
import type { Hook } from './hook'

const json = (schema: z.ZodTypeAny, description: string) => ({ 200: { description, content: { 'application/json': { schema } } } })

export function discoveryRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono({ defaultHook: hook })

  app.openapi(createRoute({ method: 'get', path: '/healthz', tags: ['discovery'], summary: 'Liveness', responses: json(z.object({ status: z.literal('ok') }), 'Alive') }), (c) =>
    c.json({ status: 'ok' as const }, 200),
  )

  app.openapi(
    createRoute({ method: 'get', path: '/.well-known/tongban', tags: ['discovery'], summary: 'The region descriptor', responses: json(z.record(z.string(), z.unknown()), 'Descriptor') }),
    (c) => {
      const base = deps.publicUrl
      return c.json(
        {
          region: deps.region,
          issuer: deps.bureau,
          baseUrl: base,
          endpoints: {
            jwks: `${base}/v1/jwks`,
            trustList: `${base}/v1/trust-list`,
            statusLists: `${base}/v1/status/`,
            verify: `${base}/v1/verify`,
            licenceTypes: `${base}/v1/licence-types`,
            openapi: `${base}/openapi.json`,
            docs: `${base}/docs`,
          },
          // For reading aloud when two bureaus compare fingerprints; a partner pins it out of band, never from here.
          root: { sha256: deps.publication.rootFingerprint },
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({ method: 'get', path: '/v1/jwks', tags: ['discovery'], summary: 'Document-signer keys with their x5c chains', responses: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), 'JWK Set') }),
    async (c) => c.json(await deps.publication.jwks(), 200, { 'cache-control': 'public, max-age=300' }),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trust-list',
      tags: ['discovery'],
      summary: 'The signed trust list (compact JWS, typ tongban-trust-list+jwt); see contracts/trust-list.md',
      responses: { 200: { description: 'Compact JWS', content: { 'application/jwt': { schema: z.string() } } } },
    }),
    async (c) => c.body(await deps.publication.trustList(), 200, { 'content-type': 'application/jwt', 'cache-control': 'public, max-age=300' }),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/status/{listId}',
      tags: ['discovery'],
      summary: 'A signed Bitstring Status List credential (application/vc+jwt)',
      request: { params: z.object({ listId: z.string().regex(/^[rs]\d{1,9}$/).openapi({ param: { name: 'listId', in: 'path' }, example: 'r1' }) }) },
      responses: { 200: { description: 'Compact JWS', content: { 'application/vc+jwt': { schema: z.string() } } }, ...problems(400, 404) },
    }),
    async (c) => {
      const { listId } = c.req.valid('param')
      const jws = await deps.statusLists.credential(listId)
      if (!jws) throw new NotFoundError('status_list_not_found', `no status list ${listId}`)
      return c.body(jws, 200, { 'content-type': 'application/vc+jwt', 'cache-control': 'public, max-age=60' })
    },
  )
  return app
}
