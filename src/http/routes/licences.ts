import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { InvalidRequestError, NotFoundError, ValidationError } from '../../core/errors'
import { effectiveStatus, type Licence, type LicenceEvent } from '../../core/licence/licence'
import { changeLicence, changeLicenceStatus, issueLicence, type StatusAction } from '../../core/licence/licence-service'
import { findLicenceType, LICENCE_TYPES } from '../../core/licence/licence-types'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { noStore } from '../middleware/no-store'
import { ChangeLicenceSchema, IssueLicenceSchema, LicenceSchema, problems, StatusChangeSchema } from '../schemas'
import type { Hook } from './hook'

const bearer = [{ bearerAuth: [] }]
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '0b7e5a52-4b8e-4d2f-9c55-2b1d3c4e5f60' }) })

export function licenceView(licence: Licence, at: Date, events?: LicenceEvent[]) {
  const type = findLicenceType(licence.typeKey)
  return {
    id: licence.id,
    number: licence.number,
    version: licence.version,
    type: { key: licence.typeKey, code: licence.typeCode, name: type?.name ?? licence.typeKey },
    holder: licence.holder,
    fields: licence.fields,
    validFrom: licence.validFrom.toISOString(),
    validUntil: licence.validUntil.toISOString(),
    status: effectiveStatus(licence, at),
    statusReason: licence.statusReason,
    issuedAt: licence.issuedAt.toISOString(),
    credential: licence.credential,
    supersedes: licence.supersedes,
    ...(events ? { events: events.map((e) => ({ action: e.action, reason: e.reason, actor: e.actor, at: e.at.toISOString() })) } : {}),
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/

function idempotencyKey(key: string | undefined): { idempotencyKey?: string } {
  if (key === undefined) return {}
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidRequestError('Idempotency-Key must be 1 to 128 visible ASCII characters', { details: [{ message: 'bad Idempotency-Key header' }] })
  }
  return { idempotencyKey: key }
}

export function licenceRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licence-types',
      tags: ['licences'],
      summary: 'The licence type catalogue with each type’s JSON Schema',
      responses: { 200: { description: 'Licence types', content: { 'application/json': { schema: z.object({ types: z.array(z.record(z.string(), z.unknown())) }) } } } },
    }),
    (c) => c.json({ types: LICENCE_TYPES.map(({ key, code, name, nameEn, authority, schema }) => ({ key, code, name, nameEn, authority, schema })) }),
  )

  app.use('/v1/licences', noStore, requireAdmin(deps.adminToken))
  app.use('/v1/licences/*', noStore, requireAdmin(deps.adminToken))

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/licences',
      tags: ['licences'],
      summary: 'Issue a licence (issuer)',
      security: bearer,
      request: {
        headers: z.object({ 'idempotency-key': z.string().optional().openapi({ description: 'A retried request with the same key returns the first result' }) }),
        body: { content: { 'application/json': { schema: IssueLicenceSchema } }, required: true },
      },
      responses: {
        201: { description: 'Issued', content: { 'application/json': { schema: LicenceSchema } } },
        200: { description: 'The result of an earlier request with the same Idempotency-Key', content: { 'application/json': { schema: LicenceSchema } } },
        ...problems(400, 401, 409, 415, 422),
      },
    }),
    async (c) => {
      const result = await issueLicence(deps.licences, c.req.valid('json'), { actor: c.get('actor'), ...idempotencyKey(c.req.header('idempotency-key')) })
      c.header('Location', `/v1/licences/${result.licence.id}`)
      if (result.replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(licenceView(result.licence, deps.clock.now()), result.replayed ? 200 : 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/licences/{id}/change',
      tags: ['licences'],
      summary: 'Change a licence (变更): issues the next version under the same serial and supersedes this one',
      security: bearer,
      request: {
        params: IdParam,
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: { content: { 'application/json': { schema: ChangeLicenceSchema } }, required: true },
      },
      responses: {
        201: { description: 'The new version', content: { 'application/json': { schema: LicenceSchema } } },
        200: { description: 'The result of an earlier request with the same Idempotency-Key', content: { 'application/json': { schema: LicenceSchema } } },
        ...problems(400, 401, 404, 409, 422),
      },
    }),
    async (c) => {
      const result = await changeLicence(deps.licences, c.req.valid('param').id, c.req.valid('json'), { actor: c.get('actor'), ...idempotencyKey(c.req.header('idempotency-key')) })
      c.header('Location', `/v1/licences/${result.licence.id}`)
      if (result.replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(licenceView(result.licence, deps.clock.now()), result.replayed ? 200 : 201)
    },
  )

  async function existing(id: string): Promise<Licence> {
    const licence = await deps.store.getLicence(id)
    if (!licence) throw new NotFoundError('licence_not_found', `no licence ${id}`)
    return licence
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licences/{id}',
      tags: ['licences'],
      summary: 'A licence with its status and history',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'The licence', content: { 'application/json': { schema: LicenceSchema } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const licence = await existing(c.req.valid('param').id)
      return c.json(licenceView(licence, deps.clock.now(), await deps.store.listLicenceEvents(licence.id)), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licences/{id}/credential',
      tags: ['licences'],
      summary: 'The licence credential as a compact JWS (application/vc+jwt)',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'Compact JWS', content: { 'application/vc+jwt': { schema: z.string() } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const licence = await existing(c.req.valid('param').id)
      return c.body(licence.credential, 200, { 'content-type': 'application/vc+jwt' })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licences/{id}/pdf',
      tags: ['licences'],
      summary: 'The licence as a signed PDF (A4, the bureau’s red seal, a QR code that verifies offline; PAdES)',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'PDF', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const licence = await existing(c.req.valid('param').id)
      const pdf = await deps.licenceDocuments.render(licence)
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="${licence.number}.pdf"`,
      })
    },
  )

  for (const action of ['suspend', 'reinstate', 'revoke'] as const satisfies StatusAction[]) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/v1/licences/{id}/${action}`,
        tags: ['licences'],
        summary: `${action[0]?.toUpperCase()}${action.slice(1)} a licence${action === 'reinstate' ? '' : ' (a reason is required)'}`,
        security: bearer,
        request: { params: IdParam, body: { content: { 'application/json': { schema: StatusChangeSchema } }, required: true } },
        responses: { 200: { description: 'The licence after the change', content: { 'application/json': { schema: LicenceSchema } } }, ...problems(400, 401, 404, 409, 422) },
      }),
      async (c) => {
        const { reason } = c.req.valid('json')
        if (action !== 'reinstate' && !reason) {
          throw new ValidationError('reason_required', `to ${action} a licence, give a reason`, [{ pointer: '/reason', message: 'required' }])
        }
        const licence = await changeLicenceStatus(deps.licences, c.req.valid('param').id, action, reason ?? null, c.get('actor'))
        return c.json(licenceView(licence, deps.clock.now()), 200)
      },
    )
  }

  return app
}
