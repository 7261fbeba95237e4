import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { issueHolderCredential, revokeHolderCredential, type HolderCredential } from '../../core/holder/holder-credential'
import { registerRelyingParty, revokeRelyingParty } from '../../core/holder/relying-party'
import { InvalidUsccError, ValidationError } from '../../core/errors'
import { idNumberProblem } from '../../core/licence/id-number'
import { usccProblem } from '../../core/licence/uscc'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { noStore } from '../middleware/no-store'
import { HolderSchema, problems } from '../schemas'
import type { Hook } from './hook'
import { RelyingPartySchema, relyingPartyView } from './holder-views'

const bearer = [{ bearerAuth: [] }]
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

const HolderCredentialSchema = z
  .object({ id: z.string(), holder: HolderSchema, label: z.string().nullable(), createdAt: z.string(), revokedAt: z.string().nullable() })
  .openapi('HolderCredential')

const credentialView = (credential: HolderCredential) => ({
  id: credential.id,
  holder: credential.holder,
  label: credential.label,
  createdAt: credential.createdAt.toISOString(),
  revokedAt: credential.revokedAt?.toISOString() ?? null,
})

const RegisterRelyingPartySchema = z
  .object({
    name: z.string().trim().min(1).max(128).openapi({ example: '中国工商银行' }),
    branch: z.string().trim().min(1).max(128).openapi({ example: '赣州章贡支行' }),
    purposes: z.array(z.string().trim().min(1).max(64)).min(1).max(20).openapi({ example: ['开户'] }),
    mayRequest: z
      .record(z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(50))
      .refine((scope) => Object.keys(scope).length >= 1 && Object.keys(scope).length <= 20, { message: 'name 1 to 20 licence types' })
      .openapi({ example: { 'business-licence': ['entityType', 'legalRepresentative', 'registeredCapital', 'address'] }, description: 'Per licence type key, the fields it may be shown' }),
    webhookUrl: z.url({ protocol: /^https?$/ }).max(2000).optional().openapi({ description: 'Where signed licence status events go (tongban-licence-status+jwt), for subscriptions holders allow' }),
  })
  .strict()
  .openapi('RegisterRelyingPartyRequest')

/** Bureau staff give holders their credentials and register the banks holders can consent to. */
export function holderAdminRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  for (const path of ['/v1/admin/holder-credentials', '/v1/admin/holder-credentials/*', '/v1/admin/relying-parties', '/v1/admin/relying-parties/*']) {
    app.use(path, noStore, requireAdmin(deps.adminToken))
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/holder-credentials',
      tags: ['admin', 'holder'],
      summary: 'Give a holder (enterprise or person) a credential for the holder API and page, with a licence or at enterprise opening',
      description: 'The `credential` (a `tbh_` bearer token) is shown once and kept only as a hash; docs/holders.md.',
      security: bearer,
      request: { body: { content: { 'application/json': { schema: z.object({ holder: HolderSchema, label: z.string().trim().min(1).max(100).optional() }).strict() } }, required: true } },
      responses: { 201: { description: 'Issued', content: { 'application/json': { schema: HolderCredentialSchema.extend({ credential: z.string() }) } } }, ...problems(400, 401, 422) },
    }),
    async (c) => {
      const { holder, label } = c.req.valid('json')
      const { credential, token } = await issueHolderCredential(deps.holders.credentials, holder, label)
      return c.json({ ...credentialView(credential), credential: token }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/holder-credentials',
      tags: ['admin', 'holder'],
      summary: 'A holder’s credentials (never the tokens), to find the one to revoke',
      security: bearer,
      request: {
        query: z
          .object({
            uscc: z.string().max(18).optional().openapi({ param: { name: 'uscc', in: 'query' } }),
            idNumber: z.string().max(18).optional().openapi({ param: { name: 'idNumber', in: 'query' } }),
          })
          .refine((q) => (q.uscc === undefined) !== (q.idNumber === undefined), { message: 'give exactly one of uscc or idNumber' }),
      },
      responses: { 200: { description: 'Credentials, newest first', content: { 'application/json': { schema: z.object({ credentials: z.array(HolderCredentialSchema) }) } } }, ...problems(400, 401, 422) },
    }),
    async (c) => {
      const { uscc, idNumber } = c.req.valid('query')
      // Checked as when a credential is issued: only a valid code names a holder, and nothing else reaches the database.
      if (uscc !== undefined) {
        const problem = usccProblem(uscc)
        if (problem) throw new InvalidUsccError(`invalid 统一社会信用代码 ${JSON.stringify(uscc)}: ${problem}`, { details: [{ pointer: '/uscc', message: problem }] })
      } else {
        const problem = idNumberProblem(idNumber as string)
        if (problem) throw new ValidationError('invalid_id_number', `invalid 公民身份号码: ${problem}`, [{ pointer: '/idNumber', message: problem }])
      }
      const key = uscc !== undefined ? `uscc:${uscc}` : `id:${idNumber}`
      return c.json({ credentials: (await deps.holders.credentials.credentials.listHolderCredentials(key)).map(credentialView) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/holder-credentials/{id}/revoke',
      tags: ['admin', 'holder'],
      summary: 'Revoke a holder credential (a lost phone): it stops working at once',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'Revoked', content: { 'application/json': { schema: HolderCredentialSchema } } }, ...problems(401, 404) },
    }),
    async (c) => c.json(credentialView(await revokeHolderCredential(deps.holders.credentials, c.req.valid('param').id)), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/relying-parties',
      tags: ['admin', 'bank'],
      summary: 'Register a bank service point and the most it may ask holders for',
      description: 'The `credential` (a `tbb_` bearer token for POST /v1/bank/checks and the teller page) is shown once and kept only as a hash.',
      security: bearer,
      request: { body: { content: { 'application/json': { schema: RegisterRelyingPartySchema } }, required: true } },
      responses: { 201: { description: 'Registered', content: { 'application/json': { schema: RelyingPartySchema.extend({ credential: z.string() }) } } }, ...problems(400, 401, 422) },
    }),
    async (c) => {
      const { party, token } = await registerRelyingParty(deps.holders.parties, c.req.valid('json'))
      return c.json({ ...relyingPartyView(party), credential: token }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/relying-parties',
      tags: ['admin', 'bank'],
      summary: 'The registered banks',
      security: bearer,
      responses: { 200: { description: 'Banks', content: { 'application/json': { schema: z.object({ relyingParties: z.array(RelyingPartySchema) }) } } }, ...problems(401) },
    }),
    async (c) => c.json({ relyingParties: (await deps.holders.parties.parties.listRelyingParties()).map(relyingPartyView) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/relying-parties/{id}/revoke',
      tags: ['admin', 'bank'],
      summary: 'Revoke a bank: its credential stops working and holders can no longer consent to it',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: { description: 'Revoked', content: { 'application/json': { schema: RelyingPartySchema } } }, ...problems(401, 404) },
    }),
    async (c) => c.json(relyingPartyView(await revokeRelyingParty(deps.holders.parties, c.req.valid('param').id)), 200),
  )
  return app
}
