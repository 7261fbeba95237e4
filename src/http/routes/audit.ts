import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { compactVerify, decodeProtectedHeader } from 'jose'
import { CHECKPOINT_TYP, type Checkpoint } from '../../core/audit/audit-chain'
import { auditLog, signCheckpoint } from '../../core/audit/audit-log'
import { ValidationError } from '../../core/errors'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { problems } from '../schemas'
import type { Hook } from './hook'

const CheckpointSchema = z
  .object({
    checkpoint: z.string().openapi({ description: `Compact JWS (typ ${CHECKPOINT_TYP}) by the attestation-signer key of the trust list` }),
    iss: z.string(),
    size: z.number().int(),
    head: z.string(),
    iat: z.number().int(),
  })
  .openapi('AuditCheckpoint')

const EntrySchema = z
  .object({ seq: z.number().int(), at: z.string(), kind: z.string(), detail: z.record(z.string(), z.unknown()), prevHash: z.string(), hash: z.string() })
  .openapi('AuditEntry')

const AuditSchema = z
  .object({
    intact: z.boolean(),
    size: z.number().int(),
    head: z.string().optional(),
    brokenAt: z.number().int().optional(),
    problem: z.string().optional(),
    checkpoint: z.object({ size: z.number().int(), head: z.string(), extended: z.boolean(), problem: z.string().optional() }).optional(),
  })
  .openapi('AuditVerdict')

/** The audit log: its signed checkpoint for anyone, its entries and a full check for the admin. */
export function auditRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/admin/audit/*', requireAdmin(deps.adminToken))

  /** A checkpoint the caller holds must be one this region signed with a key of its trust list. */
  async function checkpointOf(jws: string): Promise<Checkpoint> {
    try {
      const { kid, typ } = decodeProtectedHeader(jws)
      const key = typeof kid === 'string' ? deps.partners.trust.findRegionKey(kid, 'attestation-signer') : undefined
      if (!key || key.region.code !== deps.region.code || typ !== CHECKPOINT_TYP) throw new Error('not a checkpoint of this region')
      const { payload } = await compactVerify(jws, key.publicKey, { algorithms: ['ES256'] })
      return JSON.parse(new TextDecoder().decode(payload)) as Checkpoint
    } catch {
      throw new ValidationError('invalid_checkpoint', 'the checkpoint is not a valid audit checkpoint signed by this region')
    }
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/checkpoint',
      tags: ['audit'],
      summary: 'The audit log’s size and head hash now, signed by the region: keep it to check later that the log still extends it',
      responses: { 200: { description: 'Signed checkpoint', content: { 'application/json': { schema: CheckpointSchema } } } },
    }),
    async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(await signCheckpoint(deps.audit, deps.partners.attestation, deps.region.code, deps.clock.now()), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/audit/entries',
      tags: ['admin', 'audit'],
      summary: 'Audit entries in order, with the hashes that chain them',
      security: [{ bearerAuth: [] }],
      request: {
        query: z.object({
          from: z.coerce.number().int().min(1).default(1),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          kind: z.string().max(64).optional().openapi({ description: 'Only entries of this kind (e.g. partner_call)' }),
        }),
      },
      responses: { 200: { description: 'Entries', content: { 'application/json': { schema: z.object({ entries: z.array(EntrySchema) }) } } }, ...problems(400, 401) },
    }),
    async (c) => {
      const { from, limit, kind } = c.req.valid('query')
      const entries = await deps.audit.entries(from, limit)
      return c.json({ entries: kind ? entries.filter((entry) => entry.kind === kind) : entries }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/audit/verification',
      tags: ['admin', 'audit'],
      summary: 'Recompute the whole chain; given a checkpoint signed earlier, check that the log still extends it',
      security: [{ bearerAuth: [] }],
      request: { body: { content: { 'application/json': { schema: z.object({ checkpoint: z.string().max(4000).optional() }).strict() } }, required: false } },
      responses: { 200: { description: 'Verdict', content: { 'application/json': { schema: AuditSchema } } }, ...problems(400, 401, 422) },
    }),
    async (c) => {
      const body = c.req.header('content-length') === '0' || !c.req.header('content-type') ? {} : c.req.valid('json')
      const checkpoint = body.checkpoint ? await checkpointOf(body.checkpoint) : undefined
      return c.json(await auditLog(deps.audit, checkpoint), 200)
    },
  )
  return app
}
