import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Application, ApplicationEvent } from '../../core/application/application'
import { createApplication, decide } from '../../core/application/application-service'
import { findMatter } from '../../core/application/matters'
import { InvalidRequestError, NotFoundError } from '../../core/errors'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { noStore } from '../middleware/no-store'
import { HolderSchema, LicenceSchema, problems } from '../schemas'
import type { Hook } from './hook'

const bearer = [{ bearerAuth: [] }]
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

export const AttachmentSchema = z
  .object({
    key: z.string().min(1).max(64).openapi({ example: 'articles-of-association', description: 'The matter’s attachment key' }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256').openapi({ description: 'SHA-256 of the document' }),
    size: z.number().int().min(1).max(100 * 1024 * 1024),
    mediaType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a media type').max(100),
    url: z.url({ protocol: /^https?$/ }).max(2000).optional().openapi({ description: 'Where the handling region fetches it; the digest is checked' }),
  })
  .strict()
  .openapi('AttachmentRef')

export const RegionSchema = z.object({ code: z.string(), name: z.string() })

export const CreateApplicationSchema = z
  .object({
    matter: z.string().min(1).max(64).openapi({ example: 'public-place-hygiene', description: 'A matter code from GET /v1/matters' }),
    applicant: HolderSchema,
    form: z.record(z.string(), z.unknown()).openapi({ description: 'Checked against the matter’s form schema' }),
    attachments: z.array(AttachmentSchema).max(50),
    handlingRegion: z.string().regex(/^\d{6}$/).optional().openapi({ description: 'GB/T 2260 code of the region that handles it (default: this region)' }),
  })
  .strict()
  .openapi('CreateApplicationRequest')

const reason = z.string().trim().min(1).max(1000)

export const DecisionSchema = z
  .discriminatedUnion('action', [
    z.object({ action: z.literal('accept'), reason: reason.optional() }).strict(),
    z.object({ action: z.literal('review'), reason: reason.optional() }).strict(),
    z.object({ action: z.literal('request-more'), reason: reason.optional(), missing: z.array(z.string().trim().min(1).max(200)).min(1).max(50) }).strict(),
    z
      .object({ action: z.literal('supplement'), reason: reason.optional(), form: z.record(z.string(), z.unknown()).optional(), attachments: z.array(AttachmentSchema).max(50).optional() })
      .strict(),
    z
      .object({
        action: z.literal('approve'),
        reason: reason.optional(),
        licence: z
          .object({
            holder: HolderSchema.optional().openapi({ description: 'Default: the applicant (企业设立: the new enterprise with its credit code)' }),
            fields: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Licence fields beyond those copied from the form' }),
            validFrom: z.string().optional().openapi({ description: 'Default: the day of approval' }),
            validUntil: z.string(),
          })
          .strict(),
      })
      .strict(),
    z.object({ action: z.literal('reject'), reason }).strict(),
    z.object({ action: z.literal('withdraw'), reason }).strict(),
  ])
  .openapi('Decision')

const EventSchema = z.object({
  sequence: z.number().int(),
  action: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  at: z.string(),
})

export const ApplicationSchema = z
  .object({
    id: z.string().uuid(),
    matter: z.object({ code: z.string(), name: z.string() }),
    applicant: HolderSchema,
    form: z.record(z.string(), z.unknown()),
    attachments: z.array(AttachmentSchema),
    acceptingRegion: RegionSchema,
    handlingRegion: RegionSchema,
    status: z.enum(['received', 'accepted', 'in_review', 'more_requested', 'approved', 'rejected', 'withdrawn']),
    licence: z.object({ id: z.string(), pdf: z.string() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    timeline: z.array(EventSchema),
  })
  .openapi('Application')

export function eventView(event: ApplicationEvent) {
  return { sequence: event.sequence, action: event.action, from: event.from, to: event.to, actor: event.actor, reason: event.reason, detail: event.detail, at: event.at.toISOString() }
}

export function applicationView(application: Application, timeline: ApplicationEvent[]) {
  return {
    id: application.id,
    matter: { code: application.matterCode, name: findMatter(application.matterCode)?.name ?? application.matterCode },
    applicant: application.applicant,
    form: application.form,
    attachments: application.attachments,
    acceptingRegion: application.acceptingRegion,
    handlingRegion: application.handlingRegion,
    status: application.status,
    licence: application.licenceId ? { id: application.licenceId, pdf: `/v1/licences/${application.licenceId}/pdf` } : null,
    createdAt: application.createdAt.toISOString(),
    updatedAt: application.updatedAt.toISOString(),
    timeline: timeline.map(eventView),
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/

export function applicationRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/applications', noStore, requireAdmin(deps.adminToken))
  app.use('/v1/applications/*', noStore, requireAdmin(deps.adminToken))

  async function view(id: string) {
    const application = await deps.store.getApplication(id)
    if (!application) throw new NotFoundError('application_not_found', `no application ${id}`)
    return applicationView(application, await deps.store.listApplicationEvents(id))
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/applications',
      tags: ['applications'],
      summary: 'Register an application at the window (受理): checked whole against the matter, stored with its first event',
      security: bearer,
      request: {
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: { content: { 'application/json': { schema: CreateApplicationSchema } }, required: true },
      },
      responses: {
        201: { description: 'Received', content: { 'application/json': { schema: ApplicationSchema } } },
        200: { description: 'The application of an earlier request with the same Idempotency-Key', content: { 'application/json': { schema: ApplicationSchema } } },
        ...problems(400, 401, 415, 422),
      },
    }),
    async (c) => {
      const key = c.req.header('idempotency-key')
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new InvalidRequestError('Idempotency-Key must be 1 to 128 visible ASCII characters', { details: [{ message: 'bad Idempotency-Key header' }] })
      const result = await createApplication(deps.applications, c.req.valid('json'), { actor: c.get('actor'), ...(key !== undefined ? { idempotencyKey: key } : {}) })
      c.header('Location', `/v1/applications/${result.application.id}`)
      if (result.replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(await view(result.application.id), result.replayed ? 200 : 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/applications/{id}',
      tags: ['applications'],
      summary: 'An application with its status and whole timeline',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'The application', content: { 'application/json': { schema: ApplicationSchema } } }, ...problems(401, 404) },
    }),
    async (c) => c.json(await view(c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/applications/{id}/decisions',
      tags: ['applications'],
      summary: 'Take a decision: accept, review, request-more, supplement, approve (issues the licence), reject, withdraw',
      security: bearer,
      request: { params: IdParam, body: { content: { 'application/json': { schema: DecisionSchema } }, required: true } },
      responses: {
        200: {
          description: 'The application after the decision, and the licence an approval issued',
          content: { 'application/json': { schema: ApplicationSchema.extend({ issuedLicence: LicenceSchema.pick({ id: true, number: true }).optional() }) } },
        },
        ...problems(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id
      const { licence } = await decide(deps.applications, id, c.req.valid('json'), c.get('actor'))
      return c.json({ ...(await view(id)), ...(licence ? { issuedLicence: { id: licence.id, number: licence.number } } : {}) }, 200)
    },
  )
  return app
}
