import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AgreementTerms } from '../../core/partner/agreement'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { problems } from '../schemas'
import type { Hook } from './hook'

export const GeneralJwsSchema = z
  .object({
    payload: z.string().min(1).max(65_536),
    signatures: z.array(z.object({ protected: z.string().min(1).max(4096), signature: z.string().min(1).max(1024) }).strict()).min(1).max(2),
  })
  .strict()
  .openapi('AgreementJws', { description: 'JWS general JSON serialization (RFC 7515 §7.2.1): the terms, one signature per region by its partner-auth key' })

const AgreementSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    partner: z.object({ code: z.string(), name: z.string() }),
    status: z.enum(['awaiting_partner', 'awaiting_us', 'not_yet_valid', 'active', 'expired', 'terminated']),
    signedBy: z.array(z.string()).openapi({ description: 'Regions whose signature was checked with their partner-auth key' }),
    validFrom: z.string(),
    validUntil: z.string(),
    termination: z.object({ by: z.string(), at: z.string(), reason: z.string() }).nullable(),
    delivered: z.boolean().openapi({ description: 'Whether the partner holds what this region holds; otherwise delivery is retried' }),
    deliveryProblem: z.string().nullable(),
    terms: z.record(z.string(), z.unknown()).openapi({ description: 'contracts/agreements/agreement.schema.json' }),
    jws: GeneralJwsSchema,
  })
  .openapi('Agreement')

const IdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/).openapi({ param: { name: 'id', in: 'path' }, example: 'gz-lg-2027-01' }) })
const answer = (description: string) => ({ 200: { description, content: { 'application/json': { schema: AgreementSchema } } } })

/** Admin routes for agreements: propose, import a copy signed out of band, countersign, terminate, deliver again. */
export function agreementRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/admin/agreements', requireAdmin(deps.adminToken))
  app.use('/v1/admin/agreements/*', requireAdmin(deps.adminToken))
  const security = [{ bearerAuth: [] }]
  const tags = ['admin', 'partner']

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/agreements',
      tags,
      security,
      summary: 'Propose an agreement: this region signs the terms and sends them to the partner to countersign',
      request: { body: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi({ description: 'The terms (contracts/agreements/agreement.schema.json)' }) } }, required: true } },
      responses: { 201: { description: 'Proposed (delivered, or delivery pending)', content: { 'application/json': { schema: AgreementSchema } } }, ...problems(400, 401, 409, 422) },
    }),
    async (c) => c.json(await deps.agreements.propose(c.req.valid('json') as unknown as AgreementTerms), 201),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/agreements/import',
      tags,
      security,
      summary: 'Bring in a signed copy made out of band (e.g. countersigned with `npx tongban agreement sign`); every signature must verify',
      request: { body: { content: { 'application/json': { schema: z.object({ agreement: GeneralJwsSchema }).strict() } }, required: true } },
      responses: { ...answer('The agreement as held now'), ...problems(400, 401, 409, 422) },
    }),
    async (c) => c.json(await deps.agreements.import(c.req.valid('json').agreement), 200),
  )

  app.openapi(
    createRoute({ method: 'get', path: '/v1/admin/agreements', tags, security, summary: 'Agreements with partners and their state', responses: { 200: { description: 'Agreements', content: { 'application/json': { schema: z.object({ agreements: z.array(AgreementSchema) }) } } }, ...problems(401) } }),
    (c) => c.json({ agreements: deps.agreements.list() }, 200),
  )

  app.openapi(
    createRoute({ method: 'get', path: '/v1/admin/agreements/{id}', tags, security, summary: 'One agreement, with its signed JWS', request: { params: IdParam }, responses: { ...answer('The agreement'), ...problems(400, 401, 404) } }),
    (c) => c.json(deps.agreements.get(c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/agreements/{id}/countersignature',
      tags,
      security,
      summary: 'Countersign an agreement the partner proposed; it is in force once both have signed and inside its window',
      request: { params: IdParam },
      responses: { ...answer('Countersigned'), ...problems(400, 401, 404, 409) },
    }),
    async (c) => c.json(await deps.agreements.countersign(c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/agreements/{id}/termination',
      tags,
      security,
      summary: 'Terminate an agreement: in effect here at once, sent signed to the partner, and in effect there when it arrives',
      request: { params: IdParam, body: { content: { 'application/json': { schema: z.object({ reason: z.string().trim().min(1).max(500) }).strict() } }, required: true } },
      responses: { ...answer('Terminated'), ...problems(400, 401, 404, 409, 422) },
    }),
    async (c) => c.json(await deps.agreements.terminate(c.req.valid('param').id, c.req.valid('json').reason), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/agreements/{id}/delivery',
      tags,
      security,
      summary: 'Send the partner what it has not acknowledged yet, now rather than at the next retry',
      request: { params: IdParam },
      responses: { ...answer('The agreement after the attempt (see delivered and deliveryProblem)'), ...problems(400, 401, 404) },
    }),
    async (c) => {
      const id = c.req.valid('param').id
      deps.agreements.get(id)
      await deps.agreements.deliverPending()
      return c.json(deps.agreements.get(id), 200)
    },
  )
  return app
}
