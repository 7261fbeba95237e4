import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { OutsideAgreementError } from '../../core/errors'
import { partnerView } from '../../core/partner/partner'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { DeliverySchema, deliveryView, problems } from '../schemas'
import { partnerDestination } from '../../core/outbox/partner-message'
import type { Hook } from './hook'
import { PartnerVerifyAnswerSchema, PartnerVerifyRequestSchema } from './partner-api'

const PartnerSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    descriptorUrl: z.string(),
    rootSha256: z.string(),
    baseUrl: z.string().openapi({ description: 'From the partner’s signed trust list' }),
    trustList: z.object({ sequence: z.number().int(), validUntil: z.string(), fresh: z.boolean() }),
    registeredAt: z.string(),
    refreshedAt: z.string().openapi({ description: 'When the trust list held now was accepted' }),
    lastAttemptAt: z.string(),
    lastProblem: z.string().nullable().openapi({ description: 'Why the last fetched trust list was refused (the good one is kept), or null' }),
    delivery: DeliverySchema.optional().openapi({ description: 'Messages to the partner (forwards, requests, events): GET /v1/admin/partners only' }),
  })
  .openapi('Partner')

const CodeParam = z.object({ code: z.string().regex(/^\d{6}$/).openapi({ param: { name: 'code', in: 'path' }, example: '440307' }) })

/** Admin routes for partner regions: register by descriptor and pinned root, list, refresh, and ask a partner to verify. */
export function partnerAdminRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/admin/partners', requireAdmin(deps.adminToken))
  app.use('/v1/admin/partners/*', requireAdmin(deps.adminToken))
  const view = (partner: Parameters<typeof partnerView>[0]) => partnerView(partner, deps.clock.now())

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/partners',
      tags: ['admin', 'partner'],
      summary: 'Register a partner region by its descriptor URL and the SHA-256 fingerprint of its root, exchanged out of band',
      security: [{ bearerAuth: [] }],
      request: {
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  descriptorUrl: z.url({ protocol: /^https?$/ }).max(2000).openapi({ example: 'https://tongban.lg.example/.well-known/tongban' }),
                  rootFingerprint: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits: the SHA-256 of the root certificate’s DER'),
                })
                .strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: { description: 'Registered', content: { 'application/json': { schema: PartnerSchema } } },
        200: { description: 'Registered before with this pin; its trust list refreshed', content: { 'application/json': { schema: PartnerSchema } } },
        ...problems(400, 401, 409, 422, 502),
      },
    }),
    async (c) => {
      const { descriptorUrl, rootFingerprint } = c.req.valid('json')
      const { partner, created } = await deps.partners.registry.register(descriptorUrl, rootFingerprint)
      return c.json(view(partner), created ? 201 : 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/partners',
      tags: ['admin', 'partner'],
      summary: 'The registered partners, their trust lists, the last refresh problem, and how delivery of messages to each stands',
      security: [{ bearerAuth: [] }],
      responses: { 200: { description: 'Partners', content: { 'application/json': { schema: z.object({ partners: z.array(PartnerSchema) }) } } }, ...problems(401) },
    }),
    async (c) => {
      const [partners, counts] = await Promise.all([deps.partners.registry.list(), deps.partners.deliveries()])
      return c.json({ partners: partners.map((partner) => ({ ...view(partner), delivery: deliveryView(counts.get(partnerDestination(partner.code))) })) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/partners/{code}/refresh',
      tags: ['admin', 'partner'],
      summary: 'Fetch the partner’s trust list now; a refused list is a problem and the good one is kept',
      security: [{ bearerAuth: [] }],
      request: { params: CodeParam },
      responses: {
        200: { description: 'Refreshed', content: { 'application/json': { schema: z.object({ outcome: z.enum(['updated', 'unchanged']), partner: PartnerSchema }) } } },
        ...problems(400, 401, 404, 422, 502),
      },
    }),
    async (c) => {
      const { partner, outcome } = await deps.partners.registry.refresh(c.req.valid('param').code)
      return c.json({ outcome, partner: view(partner) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/partners/{code}/verify',
      tags: ['admin', 'partner'],
      summary: 'Ask the partner region itself to verify one of its licences (signed call; its signed answer is checked)',
      security: [{ bearerAuth: [] }],
      request: { params: CodeParam, body: { content: { 'application/json': { schema: PartnerVerifyRequestSchema } }, required: true } },
      responses: {
        200: {
          description: 'The partner’s answer, its status, and its problem when it refused',
          content: { 'application/json': { schema: z.object({ partner: z.string(), status: z.number().int(), answer: z.union([PartnerVerifyAnswerSchema, z.record(z.string(), z.unknown())]) }) } },
        },
        ...problems(400, 401, 403, 409, 502),
      },
    }),
    async (c) => {
      const code = c.req.valid('param').code
      // Termination takes effect here at once, whether or not the partner has heard of it yet.
      if (!deps.partners.scope.agreementWith(code, deps.clock.now())) throw new OutsideAgreementError('no_active_agreement', `no agreement with ${code} is in force here`)
      const answer = await deps.partners.client.call(code, { method: 'POST', path: '/v1/partner/verify', body: c.req.valid('json') })
      return c.json({ partner: code, status: answer.status, answer: answer.json<Record<string, unknown>>() }, 200)
    },
  )
  return app
}
