import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { applySupervisionAction } from '../../core/supervision/supervision-actions'
import { registerSupervisionSystem } from '../../core/supervision/supervision-registry'
import { supervisionDestination, type SupervisionSystem } from '../../core/supervision/supervision-system'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { supervisionAuth, type SupervisionVariables } from '../middleware/supervision-auth'
import { DeliverySchema, deliveryView, problems } from '../schemas'
import type { Hook } from './hook'

const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .refine((url) => !URL.canParse(url) || (!new URL(url).username && !new URL(url).password && !new URL(url).hash), 'must carry no credentials and no fragment')

const PublicJwk = z
  .object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional(), y: z.string().optional() })
  .catchall(z.unknown())
  .openapi({ description: 'The system’s P-256 public key (JWK) for its signed calls; public members only', example: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' } })

const SupervisionSystemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    webhookUrl: z.string(),
    publicKey: z.record(z.string(), z.unknown()),
    keyid: z.string().openapi({ description: 'RFC 7638 thumbprint of the key: the keyid of the system’s RFC 9421 signatures' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    delivery: DeliverySchema.optional(),
  })
  .openapi('SupervisionSystem')

const ActionSchema = z
  .object({
    action: z.enum(['suspend', 'revoke']),
    licenceId: z.string().min(1).max(64).optional(),
    licenceNumber: z.string().min(1).max(128).optional(),
    reason: z.string().trim().min(1).max(1000),
    reference: z.string().trim().min(1).max(200).optional().openapi({ description: 'The supervision system’s case or inspection reference' }),
  })
  .strict()
  .refine((body) => (body.licenceId === undefined) !== (body.licenceNumber === undefined), { message: 'give exactly one of licenceId or licenceNumber' })
  .openapi('SupervisionAction')

const ActionAnswerSchema = z
  .object({ licence: z.object({ id: z.string(), number: z.string(), status: z.string(), statusReason: z.string().nullable() }) })
  .openapi('SupervisionActionAnswer')

function view(system: SupervisionSystem) {
  return { ...system, createdAt: system.createdAt.toISOString(), updatedAt: system.updatedAt.toISOString() }
}

/** 审管联动: the admin registers supervision systems; a registered system suspends or revokes licences with signed calls. */
export function supervisionRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables & SupervisionVariables }>({ defaultHook: hook })
  app.use('/v1/admin/supervision', requireAdmin(deps.adminToken))
  app.use('/v1/supervision/*', supervisionAuth({ systems: deps.supervision.systems, nonces: deps.supervision.nonces, clock: deps.clock }, deps.publicUrl))

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/supervision',
      tags: ['admin', 'supervision'],
      summary: 'Register a supervision system: its name, the webhook that receives every licence event, and its public key for signed calls',
      security: [{ bearerAuth: [] }],
      request: {
        body: {
          content: { 'application/json': { schema: z.object({ name: z.string().trim().min(1).max(100), webhookUrl: WebhookUrl, publicKey: PublicJwk }).strict() } },
          required: true,
        },
      },
      responses: { 201: { description: 'Registered', content: { 'application/json': { schema: SupervisionSystemSchema } } }, ...problems(400, 401, 409, 422) },
    }),
    async (c) => {
      const system = await registerSupervisionSystem({ systems: deps.supervision.systems, clock: deps.clock, newId: () => crypto.randomUUID() }, c.req.valid('json'))
      c.header('Location', `/v1/admin/supervision#${system.id}`)
      return c.json(view(system), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/supervision',
      tags: ['admin', 'supervision'],
      summary: 'The registered supervision systems, with how delivery of their events stands',
      security: [{ bearerAuth: [] }],
      responses: { 200: { description: 'Systems', content: { 'application/json': { schema: z.object({ systems: z.array(SupervisionSystemSchema) }) } } }, ...problems(401) },
    }),
    async (c) => {
      const [systems, counts] = await Promise.all([deps.supervision.systems.list(), deps.supervision.deliveries()])
      return c.json({ systems: systems.map((system) => ({ ...view(system), delivery: deliveryView(counts.get(supervisionDestination(system.id))) })) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/supervision/actions',
      tags: ['supervision'],
      summary: 'A supervision system suspends or revokes a licence (after an inspection); the reason is kept on the licence’s history',
      description: 'Signed with HTTP Message Signatures (RFC 9421) by the system’s registered key, tag tongban-supervision-request (contracts/supervision.md).',
      request: { body: { content: { 'application/json': { schema: ActionSchema } }, required: true } },
      responses: { 200: { description: 'The licence after the action', content: { 'application/json': { schema: ActionAnswerSchema } } }, ...problems(400, 401, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const licence = await applySupervisionAction(deps.licences, c.get('supervisionSystem'), {
        action: body.action,
        licence: body.licenceId !== undefined ? { id: body.licenceId } : { number: body.licenceNumber as string },
        reason: body.reason,
        ...(body.reference !== undefined ? { reference: body.reference } : {}),
      })
      return c.json({ licence: { id: licence.id, number: licence.number, status: licence.status, statusReason: licence.statusReason } }, 200)
    },
  )
  return app
}
