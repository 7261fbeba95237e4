import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { TrustAnchor } from '../../core/ports'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { problems } from '../schemas'
import type { Hook } from './hook'

const TrustAnchorSchema = z
  .object({ id: z.string(), sha256: z.string(), subject: z.string(), label: z.string().nullable(), certificate: z.string(), createdAt: z.string() })
  .openapi('TrustAnchor')

const view = (anchor: TrustAnchor) => ({ ...anchor, createdAt: anchor.createdAt.toISOString() })

export function adminRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/admin/*', requireAdmin(deps.adminToken))

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/trust-anchors',
      tags: ['admin'],
      summary: 'Trust a root (national, commercial, a bank’s CA) or a self-signed certificate for PDF signatures made outside the region’s PKI',
      security: [{ bearerAuth: [] }],
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({ certificate: z.string().min(1).max(20_000).openapi({ description: 'PEM or base64 DER' }), label: z.string().trim().min(1).max(200).optional() }).strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: { description: 'Added', content: { 'application/json': { schema: TrustAnchorSchema } } },
        200: { description: 'Already trusted', content: { 'application/json': { schema: TrustAnchorSchema } } },
        ...problems(400, 401, 422),
      },
    }),
    async (c) => {
      const { certificate, label } = c.req.valid('json')
      const { anchor, created } = await deps.trustAnchors.add(certificate, label)
      return c.json(view(anchor), created ? 201 : 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/trust-anchors',
      tags: ['admin'],
      summary: 'The trust anchors added for PDF signatures',
      security: [{ bearerAuth: [] }],
      responses: { 200: { description: 'Anchors', content: { 'application/json': { schema: z.object({ anchors: z.array(TrustAnchorSchema) }) } } }, ...problems(401) },
    }),
    async (c) => c.json({ anchors: (await deps.trustAnchors.list()).map(view) }, 200),
  )
  return app
}
