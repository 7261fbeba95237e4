import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Application, ApplicationEvent, AttachmentRef } from '../../core/application/application'
import { withHolding } from '../../core/application/attachment-holding'
import { ATTACHMENT_MEDIA_TYPES, MAX_ATTACHMENT_BYTES } from '../../core/application/attachments'
import { createApplication, decide } from '../../core/application/application-service'
import { handOver } from '../../core/application/collection'
import type { LicenceCollection } from '../../core/application/application'
import { requestOfHandlingRegion } from '../../core/application/partner-requests'
import type { ApplicationMessage } from '../../core/ports'
import { findMatter } from '../../core/application/matters'
import { InvalidRequestError, InvalidTransitionError, NotFoundError } from '../../core/errors'
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
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256')
      .openapi({ description: 'SHA-256 of a document held by the region that accepted the application (POST /v1/attachments); the handling region fetches it from there by this digest' }),
    size: z.number().int().min(1).max(MAX_ATTACHMENT_BYTES),
    mediaType: z.enum(ATTACHMENT_MEDIA_TYPES),
  })
  .strict()
  .openapi('AttachmentRef')

const ApplicationAttachmentSchema = AttachmentSchema.extend({
  mediaType: z.string(),
  held: z.boolean().openapi({ description: 'Whether the document is held here, as referenced; at a handling region, it is fetched from the accepting region after the forward' }),
}).openapi('ApplicationAttachment')

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
  statement: z.string().optional().openapi({ description: 'On the accepting region’s copy of a step the handling region took: its signed statement (typ tongban-application-event+jwt)' }),
})

const VerdictSchema = z.object({ indication: z.string(), subIndication: z.string().nullable() })

const CollectionSchema = z
  .object({
    state: z.enum(['waiting', 'ready', 'failed', 'handed_over']),
    licence: z.object({ id: z.string(), number: z.string(), issuingRegion: z.string() }),
    verification: z.object({ pdf: VerdictSchema, credential: VerdictSchema }).nullable(),
    pdf: z.string().nullable().openapi({ description: 'Where window staff download the verified PDF, once ready' }),
    credential: z.string().nullable(),
    lastError: z.string().nullable(),
    readyAt: z.string().nullable(),
    handedOverAt: z.string().nullable(),
    handedOverBy: z.string().nullable(),
  })
  .openapi('LicenceCollection')

const MessageSchema = z.object({
  id: z.string(),
  topic: z.string(),
  destination: z.string(),
  state: z.enum(['pending', 'delivered', 'abandoned']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
})

export const ApplicationSchema = z
  .object({
    id: z.string().uuid(),
    matter: z.object({ code: z.string(), name: z.string() }),
    applicant: HolderSchema,
    form: z.record(z.string(), z.unknown()),
    attachments: z.array(ApplicationAttachmentSchema),
    acceptingRegion: RegionSchema,
    handlingRegion: RegionSchema,
    status: z.enum(['received', 'accepted', 'in_review', 'more_requested', 'approved', 'rejected', 'withdrawn']),
    licence: z.object({ id: z.string(), pdf: z.string() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    timeline: z.array(EventSchema),
    collection: CollectionSchema.nullable().openapi({ description: '异地领证: the licence the handling region issued, as collected here' }),
    messages: z.array(MessageSchema).openapi({ description: 'Messages about the application to other regions (forward, requests, events) and their delivery' }),
  })
  .openapi('Application')

export function eventView(event: ApplicationEvent) {
  return {
    sequence: event.sequence,
    action: event.action,
    from: event.from,
    to: event.to,
    actor: event.actor,
    reason: event.reason,
    detail: event.detail,
    at: event.at.toISOString(),
    ...(event.statement !== undefined ? { statement: event.statement } : {}),
  }
}

const iso = (date: Date | null) => date?.toISOString() ?? null

function collectionView(c: LicenceCollection) {
  const held = c.state === 'ready' || c.state === 'handed_over'
  return {
    state: c.state,
    licence: { id: c.licenceId, number: c.licenceNumber, issuingRegion: c.issuingRegion },
    verification: c.verification,
    pdf: held ? `/v1/applications/${c.applicationId}/collection/pdf` : null,
    credential: held ? c.credential : null,
    lastError: c.lastError,
    readyAt: iso(c.readyAt),
    handedOverAt: iso(c.handedOverAt),
    handedOverBy: c.handedOverBy,
  }
}

function messageView(m: ApplicationMessage) {
  return { id: m.id, topic: m.topic, destination: m.destination, state: m.state, attempts: m.attempts, lastError: m.lastError, createdAt: m.createdAt.toISOString(), deliveredAt: iso(m.deliveredAt) }
}

export function applicationView(
  application: Application,
  timeline: ApplicationEvent[],
  related: { attachments: Array<AttachmentRef & { held: boolean }>; collection?: LicenceCollection | undefined; messages?: ApplicationMessage[] },
) {
  return {
    id: application.id,
    matter: { code: application.matterCode, name: findMatter(application.matterCode)?.name ?? application.matterCode },
    applicant: application.applicant,
    form: application.form,
    attachments: related.attachments,
    acceptingRegion: application.acceptingRegion,
    handlingRegion: application.handlingRegion,
    status: application.status,
    licence: application.licenceId ? { id: application.licenceId, pdf: `/v1/licences/${application.licenceId}/pdf` } : null,
    createdAt: application.createdAt.toISOString(),
    updatedAt: application.updatedAt.toISOString(),
    timeline: timeline.map(eventView),
    collection: related.collection ? collectionView(related.collection) : null,
    messages: (related.messages ?? []).map(messageView),
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
    const [timeline, attachments, collection, messages] = await Promise.all([
      deps.store.listApplicationEvents(id),
      withHolding(deps.store, application.attachments),
      deps.store.getCollection(id),
      deps.store.listApplicationMessages(id),
    ])
    return applicationView(application, timeline, { attachments, collection, messages })
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/applications',
      tags: ['applications'],
      summary: 'Register an application at the window (受理): checked whole against the matter, stored with its first event',
      description: 'Each attachment names a document uploaded here first (POST /v1/attachments) by its SHA-256, size and media type.',
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
      description:
        'On an application another region handles, only withdraw and supplement can be taken here: they are sent to the handling region (202, the request in `messages`), and the status changes when its event comes back. A supplement’s attachments name documents uploaded here (POST /v1/attachments). An approval needs every document the application names held here: 409 attachments_not_held while one is still being fetched from the accepting region.',
      responses: {
        200: {
          description: 'The application after the decision, and the licence an approval issued',
          content: { 'application/json': { schema: ApplicationSchema.extend({ issuedLicence: LicenceSchema.pick({ id: true, number: true }).optional() }) } },
        },
        202: { description: 'Sent to the handling region', content: { 'application/json': { schema: ApplicationSchema.extend({ requestId: z.string() }) } } },
        ...problems(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id
      const application = await deps.store.getApplication(id)
      if (application && application.handlingRegion.code !== deps.region.code) {
        const { requestId } = await requestOfHandlingRegion(deps.applications, id, c.req.valid('json'), c.get('actor'))
        return c.json({ ...(await view(id)), requestId }, 202)
      }
      const { licence } = await decide(deps.applications, id, c.req.valid('json'), c.get('actor'))
      return c.json({ ...(await view(id)), ...(licence ? { issuedLicence: { id: licence.id, number: licence.number } } : {}) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/applications/{id}/collection/pdf',
      tags: ['applications'],
      summary: '异地领证: the licence PDF the handling region issued, as fetched and verified here, to hand over at the window',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'PDF', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problems(401, 404, 409) },
    }),
    async (c) => {
      const id = c.req.valid('param').id
      const collection = await deps.store.getCollection(id)
      if (!collection) throw new NotFoundError('collection_not_found', `no licence is being collected for application ${id}`)
      if (!collection.pdf || (collection.state !== 'ready' && collection.state !== 'handed_over')) throw new InvalidTransitionError(`the licence is ${collection.state}, not ready`)
      return c.body(collection.pdf as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${collection.licenceNumber}.pdf"` })
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/applications/{id}/collection/hand-over',
      tags: ['applications'],
      summary: '领证: record that the collected licence was handed over to the applicant at this window',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'The application, its licence handed over', content: { 'application/json': { schema: ApplicationSchema } } }, ...problems(401, 404, 409, 503) },
    }),
    async (c) => {
      const id = c.req.valid('param').id
      await handOver({ ...deps.applications, verifyCredential: deps.collectedLicences.verifyCredential }, id, c.get('actor').id)
      return c.json(await view(id), 200)
    },
  )
  return app
}
