import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { verifyForPartner } from '../../core/partner/partner-verify'
import { verifyCredential } from '../../core/verification/verify-credential'
import { partnerUse } from '../../core/holder/licence-use'
import { GeneralJwsSchema } from './agreements'
import { AttachmentSchema, RegionSchema } from './applications'
import { receiveForward } from '../../core/application/forwarding'
import { receiveApplicationEvent } from '../../core/application/application-events'
import { licenceForPickup } from '../../core/application/licence-pickup'
import { attachmentForPartner, ATTACHMENT_MEDIA_TYPES } from '../../core/application/attachments'
import { Sha256Param } from './attachments'
import { REQUESTABLE_ACTIONS, takeRequestedDecision } from '../../core/application/partner-requests'
import type { AttestationKeyOf } from '../../core/partner/partner-statement'
import { HolderSchema } from '../schemas'
import type { AppDeps } from '../deps'
import { partnerAuth, requireAgreement, type PartnerVariables } from '../middleware/partner-auth'
import { MAX_CREDENTIAL_LENGTH, problems, VerificationReportSchema } from '../schemas'
import type { Hook } from './hook'

export const PartnerVerifyRequestSchema = z
  .object({
    credential: z.string().min(1).max(MAX_CREDENTIAL_LENGTH).optional().openapi({ description: 'A licence credential of this region (compact JWS)' }),
    qr: z.string().min(1).max(8192).optional().openapi({ description: 'The QR payload of one of this region’s licence PDFs' }),
    number: z.string().min(1).max(128).optional().openapi({ description: 'A GB/T 36904 licence number issued here' }),
    receipt: z.boolean().optional().openapi({ description: 'Also return a signed receipt of this verification' }),
    purpose: z.string().trim().min(1).max(200).optional().openapi({ description: 'Why the partner asks, recorded in the receipt and the audit log' }),
  })
  .strict()
  .refine((body) => [body.credential, body.qr, body.number].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of credential, qr or number' })
  .openapi('PartnerVerifyRequest')

export const PartnerVerifyAnswerSchema = z
  .object({ report: VerificationReportSchema, receipt: z.string().optional().openapi({ description: 'Compact JWS, typ tongban-receipt+jwt, by the attestation-signer key in this region’s trust list' }) })
  .openapi('PartnerVerifyAnswer')

export const ForwardRequestSchema = z
  .object({
    application: z
      .object({
        id: z.uuid().openapi({ description: 'The application’s id at the accepting region: the idempotency key' }),
        matter: z.string().min(1).max(64),
        applicant: HolderSchema,
        form: z.record(z.string(), z.unknown()),
        attachments: z.array(AttachmentSchema).max(50),
        acceptingRegion: RegionSchema,
        handlingRegion: RegionSchema,
        submittedAt: z.string().max(40),
        submittedBy: z.string().min(1).max(200),
      })
      .strict(),
    identityCheck: z.string().min(1).max(8192).openapi({ description: 'Compact JWS, typ tongban-identity-check+jwt, by the caller’s attestation-signer key (contracts/partner-api.md)' }),
  })
  .strict()
  .openapi('ForwardedApplication')

export const DecisionRequestSchema = z
  .object({
    requestId: z.uuid().openapi({ description: 'Stable across deliveries: the step is taken once under it' }),
    action: z.enum(REQUESTABLE_ACTIONS),
    reason: z.string().trim().min(1).max(1000).optional(),
    form: z.record(z.string(), z.unknown()).optional(),
    attachments: z.array(AttachmentSchema).max(50).optional(),
    actor: z.string().min(1).max(200).openapi({ description: 'Who took the request at the accepting window' }),
    at: z.string().max(40),
  })
  .strict()
  .openapi('DecisionRequest')

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' } }) })

/** The partner API: every route behind the RFC 9421 door, and those that act on an agreement behind it too. */
export function partnerApiRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: PartnerVariables & { agreement: { id: string } } }>({ defaultHook: hook })
  app.use('/v1/partner/*', partnerAuth(deps.partners, deps.publicUrl, (error) => deps.log.error({ err: error }, 'unhandled error in the partner API')))
  const attestationKeyOf: AttestationKeyOf = (kid) => {
    const key = deps.partners.trust.findRegionKey(kid, 'attestation-signer')
    return key ? { region: key.region.code, publicKey: key.publicKey } : undefined
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/verify',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'A partner region verifies one of this region’s licences; it sees the fields the agreement discloses to it',
      description: 'Requests and answers are signed with HTTP Message Signatures (RFC 9421) as contracts/partner-api.md says.',
      request: { body: { content: { 'application/json': { schema: PartnerVerifyRequestSchema } }, required: true } },
      responses: { 200: { description: 'The report, disclosed per the agreement', content: { 'application/json': { schema: PartnerVerifyAnswerSchema } } }, ...problems(400, 401, 403, 404, 422, 429) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const { receipt, purpose, credential, qr, number } = body
      const asked = credential !== undefined ? { credential } : qr !== undefined ? { qr } : { number: number as string }
      const partner = c.get('partner')
      const answer = await verifyForPartner(
        { verifier: deps.verifier, scope: deps.partners.scope, store: deps.store, attestation: deps.partners.attestation, clock: deps.clock, region: deps.region, publicUrl: deps.publicUrl },
        partner.code,
        { ...asked, ...(receipt !== undefined ? { receipt } : {}), ...(purpose !== undefined ? { purpose } : {}) },
      )
      // The holder sees a partner region's check in GET /v1/holder/uses as it sees a bank's; the
      // door records it with the call.
      const shown = answer.report.licence
      if (shown?.id) c.get('licenceUses').push(partnerUse(partner, shown.id, purpose ?? null, answer.report.indication, deps.clock.now()))
      return c.json(answer, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/applications',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'A partner forwards an application it accepted for a matter this region owns (异地受理); stored once under its id',
      request: { body: { content: { 'application/json': { schema: ForwardRequestSchema } }, required: true } },
      responses: {
        201: { description: 'Stored here (or stored before: the same answer, with Idempotent-Replayed)', content: { 'application/json': { schema: z.object({ id: z.string(), status: z.string() }) } } },
        ...problems(400, 401, 403, 409, 422, 429),
      },
    }),
    async (c) => {
      const result = await receiveForward(
        {
          store: deps.store,
          clock: deps.clock,
          newId: deps.applications.newId,
          region: deps.region,
          mattersAcceptedBy: (partner, at) => deps.agreements.mattersAcceptedBy(partner, at),
          attestationKeyOf,
        },
        c.get('partner').code,
        c.req.valid('json'),
      )
      if (result.replayed) c.header('Idempotent-Replayed', 'true')
      // The forward enqueued the fetches of its documents: start them now rather than at the next tick.
      else deps.applications.afterStep?.()
      return c.json(result.body, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/applications/{id}/decisions',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'The accepting region asks for a step taken at its window (withdraw, supplement) on an application it forwarded; taken once per request id',
      request: { params: IdParam, body: { content: { 'application/json': { schema: DecisionRequestSchema } }, required: true } },
      responses: {
        200: { description: 'The step was taken (or had been, under this request id)', content: { 'application/json': { schema: z.object({ id: z.string(), status: z.string(), sequence: z.number() }) } } },
        ...problems(400, 401, 403, 404, 409, 422, 429),
      },
    }),
    async (c) => c.json(await takeRequestedDecision(deps.applications, c.get('partner').code, c.req.valid('param').id, c.req.valid('json')), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/events',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'The handling region tells the accepting region of a step it took on an application (远程办理 → 异地受理); kept once per sequence number',
      request: {
        body: {
          content: { 'application/json': { schema: z.object({ event: z.string().min(1).max(65_536).openapi({ description: 'Compact JWS, typ tongban-application-event+jwt, by the caller’s attestation-signer key' }) }).strict() } },
          required: true,
        },
      },
      responses: {
        200: {
          description: 'Kept (or held already: duplicate true); status is the application’s here after it',
          content: { 'application/json': { schema: z.object({ applicationId: z.string(), sequence: z.number(), status: z.string(), duplicate: z.boolean() }) } },
        },
        ...problems(400, 401, 403, 404, 409, 422, 429),
      },
    }),
    async (c) => {
      const received = await receiveApplicationEvent({ ...deps.applications, attestationKeyOf }, c.get('partner').code, c.req.valid('json').event)
      // An approval enqueued the licence's collection: start it now rather than at the next tick.
      if (!received.duplicate) deps.applications.afterStep?.()
      return c.json(received, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partner/licences/{id}/pdf',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'The signed PDF of a licence issued here for an application the caller accepted (异地领证)',
      request: { params: IdParam },
      responses: { 200: { description: 'PDF', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problems(401, 403, 404, 429) },
    }),
    async (c) => {
      const partner = c.get('partner')
      const licence = await licenceForPickup(deps.store, partner.code, c.req.valid('param').id)
      const [pdf, report] = await Promise.all([deps.licenceDocuments.render(licence), verifyCredential(deps.verifier, licence.credential, { at: deps.clock.now() })])
      // The holder sees the partner's collection of the licence in GET /v1/holder/uses, with what our own check of it said then; the door records it with the call.
      c.get('licenceUses').push(partnerUse(partner, licence.id, '异地领证', report.indication, deps.clock.now()))
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/pdf', 'cache-control': 'no-store' })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partner/licences/{id}/credential',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'The credential of a licence issued here for an application the caller accepted (异地领证)',
      request: { params: IdParam },
      responses: { 200: { description: 'The licence credential', content: { 'application/json': { schema: z.object({ credential: z.string() }) } } }, ...problems(401, 403, 404, 429) },
    }),
    async (c) => {
      const licence = await licenceForPickup(deps.store, c.get('partner').code, c.req.valid('param').id)
      c.header('cache-control', 'no-store')
      return c.json({ credential: licence.credential }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partner/attachments/{sha256}',
      middleware: [requireAgreement(deps.partners)] as const,
      tags: ['partner'],
      summary: 'A document an application accepted here names, for the region handling it (远程办理); it checks the digest',
      request: { params: Sha256Param },
      responses: { 200: { description: 'The document, with its media type', content: Object.fromEntries(ATTACHMENT_MEDIA_TYPES.map((type) => [type, { schema: z.string().openapi({ format: 'binary' }) }])) }, ...problems(401, 403, 404, 429) },
    }),
    async (c) => {
      const { attachment, content } = await attachmentForPartner(deps.store, c.get('partner').code, c.req.valid('param').sha256)
      return c.body(content as Uint8Array<ArrayBuffer>, 200, { 'content-type': attachment.mediaType, 'cache-control': 'no-store' })
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/agreements',
      tags: ['partner'],
      summary: 'A partner sends its signed copy of an agreement between us (proposal or countersignature); the answer is the copy held here',
      request: { body: { content: { 'application/json': { schema: z.object({ agreement: GeneralJwsSchema }).strict() } }, required: true } },
      responses: {
        200: { description: 'The agreement as held here, with every signature it has', content: { 'application/json': { schema: z.object({ agreement: GeneralJwsSchema, status: z.string() }) } } },
        ...problems(400, 401, 409, 422),
      },
    }),
    async (c) => {
      const held = await deps.agreements.receive(c.get('partner').code, c.req.valid('json').agreement)
      return c.json({ agreement: held.jws, status: held.status }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partner/agreements/{id}/termination',
      tags: ['partner'],
      summary: 'A partner terminates an agreement between us with a statement signed by its partner-auth key',
      request: {
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/).openapi({ param: { name: 'id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: z.object({ termination: z.string().min(1).max(8192) }).strict() } }, required: true },
      },
      responses: { 200: { description: 'Terminated here', content: { 'application/json': { schema: z.object({ status: z.string() }) } } }, ...problems(400, 401, 404, 422) },
    }),
    async (c) => {
      const held = await deps.agreements.receiveTermination(c.get('partner').code, c.req.valid('param').id, c.req.valid('json').termination)
      return c.json({ status: held.status }, 200)
    },
  )
  return app
}
