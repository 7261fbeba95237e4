import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { createApplication } from '../../core/application/application-service'
import { withHolding } from '../../core/application/attachment-holding'
import { ATTACHMENT_MEDIA_TYPES } from '../../core/application/attachments'
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../core/errors'
import type { RelyingParty } from '../../core/holder/relying-party'
import type { AppDeps } from '../deps'
import { requireBank, type BankVariables } from '../middleware/holder-auth'
import { noStore } from '../middleware/no-store'
import { problems } from '../schemas'
import { ApplicationSchema, applicationView, CreateApplicationSchema } from './applications'
import { documentContent, HeldAttachmentSchema, holdUploaded } from './attachments'
import type { Hook } from './hook'

/** The one matter a bank service point accepts for the bureau: 企业设立登记, so that 企业开办 and 银行开户 happen in one visit. */
export const BANK_ACCEPTED_MATTER = 'enterprise-establishment'
/** The purpose a bank must be registered for to accept enterprise-opening applications. */
export const ENTERPRISE_OPENING_PURPOSE = '企业开办'

const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/

/** How a bank appears on an application's timeline: as the accepting point, by id, name and branch. */
export const bankActor = (bank: RelyingParty) => ({ id: `bank:${bank.id} ${bank.name}${bank.branch}` })

/**
 * A bank branch as an accepting point (受理点) of enterprise opening: it registers the
 * application for its customer through the same application service as the bureau's window, and
 * follows the applications it started. The bureau reviews and decides them as any other.
 */
export function bankApplicationRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: BankVariables }>({ defaultHook: hook })
  app.use('/v1/bank/applications', noStore, requireBank(deps.holders.parties.parties))
  app.use('/v1/bank/applications/*', noStore, requireBank(deps.holders.parties.parties))
  app.use('/v1/bank/attachments', noStore, requireBank(deps.holders.parties.parties))

  function mayAccept(bank: RelyingParty): void {
    if (!bank.purposes.includes(ENTERPRISE_OPENING_PURPOSE)) throw new ForbiddenError(`${bank.name}${bank.branch} is not registered as an accepting point for ${ENTERPRISE_OPENING_PURPOSE}`)
  }

  async function ownView(bank: RelyingParty, id: string) {
    const application = await deps.store.getApplication(id)
    const timeline = application ? await deps.store.listApplicationEvents(id) : []
    // Another branch's application, or the window's, is answered like one that does not exist.
    if (!application || timeline[0]?.actor !== bankActor(bank).id) throw new NotFoundError('application_not_found', `this branch started no application ${id}`)
    return applicationView(application, timeline, { attachments: await withHolding(deps.store, application.attachments) })
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/bank/applications',
      tags: ['bank', 'applications'],
      summary: 'A bank branch registers an enterprise-opening application (企业设立登记) for its customer, as an accepting point',
      description: `Only for banks registered with the purpose ${ENTERPRISE_OPENING_PURPOSE}. The body is POST /v1/applications without matter and handlingRegion: the matter is ${BANK_ACCEPTED_MATTER}, handled here.`,
      security: [{ bankAuth: [] }],
      request: {
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: { content: { 'application/json': { schema: CreateApplicationSchema.omit({ matter: true, handlingRegion: true }).strict() } }, required: true },
      },
      responses: {
        201: { description: 'Received', content: { 'application/json': { schema: ApplicationSchema } } },
        200: { description: 'The application of an earlier request with the same Idempotency-Key', content: { 'application/json': { schema: ApplicationSchema } } },
        ...problems(400, 401, 403, 422),
      },
    }),
    async (c) => {
      const bank = c.get('bank')
      mayAccept(bank)
      const key = c.req.header('idempotency-key')
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new InvalidRequestError('Idempotency-Key must be 1 to 128 visible ASCII characters', { details: [{ message: 'bad Idempotency-Key header' }] })
      const body = c.req.valid('json')
      const result = await createApplication(deps.applications, { ...body, matter: BANK_ACCEPTED_MATTER }, { actor: bankActor(bank), ...(key !== undefined ? { idempotencyKey: `bank:${bank.id}:${key}` } : {}) })
      c.header('Location', `/v1/bank/applications/${result.application.id}`)
      if (result.replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(await ownView(bank, result.application.id), result.replayed ? 200 : 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/bank/attachments',
      tags: ['bank', 'applications'],
      summary: 'A bank branch uploads a document its customer’s application will name by SHA-256, as the window does',
      description: `As POST /v1/attachments: ${ATTACHMENT_MEDIA_TYPES.join(', ')}; held once per content. Only for banks registered with the purpose ${ENTERPRISE_OPENING_PURPOSE}; a branch cannot read documents back.`,
      security: [{ bankAuth: [] }],
      request: { body: { content: documentContent, required: true } },
      responses: {
        201: { description: 'Held here now', content: { 'application/json': { schema: HeldAttachmentSchema } } },
        200: { description: 'Held here already', content: { 'application/json': { schema: HeldAttachmentSchema } } },
        ...problems(401, 403, 413, 415, 422),
      },
    }),
    async (c) => {
      mayAccept(c.get('bank'))
      const { held, created } = await holdUploaded(deps, c.req)
      return c.json(held, created ? 201 : 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/bank/applications/{id}',
      tags: ['bank', 'applications'],
      summary: 'An application this branch started: its status, timeline and, once approved, the licence',
      security: [{ bankAuth: [] }],
      request: { params: IdParam },
      responses: { 200: { description: 'The application', content: { 'application/json': { schema: ApplicationSchema } } }, ...problems(401, 404) },
    }),
    async (c) => c.json(await ownView(c.get('bank'), c.req.valid('param').id), 200),
  )
  return app
}
