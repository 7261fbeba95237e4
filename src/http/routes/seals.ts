import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { NotFoundError, UnauthorizedError, UnsupportedMediaTypeError } from '../../core/errors'
import { SEAL_KIND_NAMES, SEAL_KINDS, type Seal, type SealKind } from '../../core/seal/seal'
import { createSeals, enterpriseOf, revokeSeal, useSeal } from '../../core/seal/seal-service'
import type { AppDeps } from '../deps'
import { adminTokenCheck, bearerToken, requireAdmin, type AuthVariables } from '../middleware/auth'
import { noStore } from '../middleware/no-store'
import { problems } from '../schemas'
import type { Hook } from './hook'

const SealSchema = z
  .object({
    id: z.string(),
    kind: z.enum(SEAL_KINDS as [SealKind, ...SealKind[]]),
    kindName: z.string(),
    name: z.string(),
    owner: z.object({ uscc: z.string(), name: z.string() }),
    status: z.enum(['active', 'revoked']),
    statusReason: z.string().nullable(),
    keySource: z.enum(['service', 'pkcs12']),
    algorithm: z.string(),
    certificate: z.string().openapi({ description: 'Base64 DER certificate of the seal key' }),
    certificateSha256: z.string(),
    chain: z.array(z.string()),
    sesSeal: z.string().openapi({ description: 'Base64 DER of the SES_Seal structure (GB/T 38540 model)' }),
    validFrom: z.string(),
    validUntil: z.string(),
    image: z.string().openapi({ description: 'URL of the seal image (SVG)' }),
  })
  .openapi('Seal')

const CreateSealsSchema = z
  .object({
    enterpriseName: z.string().trim().min(1).max(128),
    set: z.literal('opening').optional().openapi({ description: 'The three free seals of enterprise opening: official, finance, invoice' }),
    kind: z.enum(SEAL_KINDS as [SealKind, ...SealKind[]]).optional(),
    personName: z.string().trim().min(1).max(32).optional().openapi({ description: 'The name on a 法定代表人名章' }),
    pkcs12: z.string().max(200_000).optional().openapi({ description: "Base64 PKCS#12 with the enterprise's own key and certificate" }),
    password: z.string().max(1024).optional(),
  })
  .strict()
  .openapi('CreateSealsRequest')

const UsccParam = z.object({ uscc: z.string().openapi({ param: { name: 'uscc', in: 'path' }, example: '91360702MA00000017' }) })
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

function sealView(seal: Seal, publicUrl: string) {
  return {
    id: seal.id,
    kind: seal.kind,
    kindName: SEAL_KIND_NAMES[seal.kind],
    name: seal.name,
    owner: seal.owner,
    status: seal.status,
    statusReason: seal.statusReason,
    keySource: seal.keySource,
    algorithm: seal.algorithm,
    certificate: seal.certificate,
    certificateSha256: seal.certificateSha256,
    chain: seal.chain,
    sesSeal: seal.sesSeal,
    validFrom: seal.validFrom.toISOString(),
    validUntil: seal.validUntil.toISOString(),
    image: `${publicUrl}/v1/seals/${seal.id}/image`,
  }
}

function decodeBase64(text: string, pointer: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text.replace(/\s+/g, '')), (ch) => ch.charCodeAt(0))
  } catch {
    throw new UnsupportedMediaTypeError(`${pointer} is not base64`)
  }
}

const number = (name: string, description: string) =>
  z.coerce.number().finite().min(0).max(100_000).optional().openapi({ param: { name, in: 'query' }, description })

export function sealRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  const admin = requireAdmin(deps.adminToken)
  const isAdmin = adminTokenCheck(deps.adminToken)

  /** The enterprise a request speaks for, from its seal credential (given at seal creation). */
  async function enterprise(header: string | undefined) {
    const token = bearerToken(header)
    const found = token ? await enterpriseOf(deps.seals, token) : undefined
    if (!found) throw new UnauthorizedError('this endpoint needs Authorization: Bearer <enterprise seal credential>')
    return found
  }

  async function existing(id: string): Promise<Seal> {
    const seal = await deps.seals.seals.getSeal(id)
    if (!seal) throw new NotFoundError('seal_not_found', `no seal ${id}`)
    return seal
  }

  app.use('/v1/enterprises/*', noStore, admin)
  app.use('/v1/seals/:id/uses', noStore)
  app.use('/v1/seals/:id/sign', noStore)

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/enterprises/{uscc}/seals',
      tags: ['seals'],
      summary: 'Make an enterprise seal, or the three seals of enterprise opening (issuer)',
      description:
        'Returns the seals and, the first time an enterprise gets a seal, its seal credential (`enterpriseCredential`): the bearer token with which it seals its own PDFs. It is shown once and stored only as a hash.',
      security: [{ bearerAuth: [] }],
      request: { params: UsccParam, body: { content: { 'application/json': { schema: CreateSealsSchema } }, required: true } },
      responses: {
        201: { description: 'Made', content: { 'application/json': { schema: z.object({ seals: z.array(SealSchema), enterpriseCredential: z.string().nullable() }) } } },
        ...problems(400, 401, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const created = await createSeals(deps.seals, c.req.valid('param').uscc, {
        enterpriseName: body.enterpriseName,
        ...(body.set ? { set: body.set } : {}),
        ...(body.kind ? { kind: body.kind } : {}),
        ...(body.personName ? { personName: body.personName } : {}),
        ...(body.pkcs12 !== undefined ? { pkcs12: { bytes: decodeBase64(body.pkcs12, '/pkcs12'), password: body.password ?? '' } } : {}),
      })
      return c.json({ seals: created.seals.map((seal) => sealView(seal, deps.publicUrl)), enterpriseCredential: created.enterpriseCredential }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/enterprises/{uscc}/seals',
      tags: ['seals'],
      summary: "An enterprise's seals (issuer)",
      security: [{ bearerAuth: [] }],
      request: { params: UsccParam },
      responses: { 200: { description: 'Seals', content: { 'application/json': { schema: z.object({ seals: z.array(SealSchema) }) } } }, ...problems(401) },
    }),
    async (c) => c.json({ seals: (await deps.seals.seals.listSeals(c.req.valid('param').uscc)).map((seal) => sealView(seal, deps.publicUrl)) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/seals/{id}',
      tags: ['seals'],
      summary: 'A seal’s public facts and status',
      request: { params: IdParam },
      responses: { 200: { description: 'The seal', content: { 'application/json': { schema: SealSchema } } }, ...problems(404) },
    }),
    async (c) => c.json(sealView(await existing(c.req.valid('param').id), deps.publicUrl), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/seals/{id}/image',
      tags: ['seals'],
      summary: 'The seal’s image (SVG, drawn by the service)',
      request: { params: IdParam },
      responses: { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: z.string() } } }, ...problems(404) },
    }),
    async (c) => {
      const seal = await existing(c.req.valid('param').id)
      return c.body(seal.imageSvg, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=3600' })
    },
  )

  app.use('/v1/seals/:id/revoke', admin)
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/seals/{id}/revoke',
      tags: ['seals'],
      summary: 'Revoke a seal (issuer); documents it sealed afterwards no longer verify',
      security: [{ bearerAuth: [] }],
      request: { params: IdParam, body: { content: { 'application/json': { schema: z.object({ reason: z.string().trim().min(1).max(500) }).strict() } }, required: true } },
      responses: { 200: { description: 'The revoked seal', content: { 'application/json': { schema: SealSchema } } }, ...problems(400, 401, 404, 409) },
    }),
    async (c) => c.json(sealView(await revokeSeal(deps.seals, c.req.valid('param').id, c.req.valid('json').reason), deps.publicUrl), 200),
  )

  app.use('/v1/seals/:id/sign', async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/pdf') throw new UnsupportedMediaTypeError(`send the document as application/pdf; got ${type || 'no Content-Type'}`)
    await next()
  })
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/seals/{id}/sign',
      tags: ['seals'],
      summary: 'Seal a PDF (the seal’s owner): the seal image placed on the page and a PAdES signature by the seal’s key',
      description: 'A PDF already sealed gets the new seal as an incremental update, so earlier seals stay valid. Every use is recorded.',
      security: [{ bearerAuth: [] }],
      request: {
        params: IdParam,
        query: z.object({
          page: z.coerce.number().int().min(1).max(100_000).optional().openapi({ param: { name: 'page', in: 'query' }, description: '1-based page; the last when absent' }),
          x: number('x', 'Left edge of the seal, PDF points from the left'),
          y: number('y', 'Bottom edge of the seal, PDF points from the bottom'),
          size: z.coerce.number().min(10).max(80).optional().openapi({ param: { name: 'size', in: 'query' }, description: 'Seal width in millimetres' }),
          reason: z.string().max(200).optional().openapi({ param: { name: 'reason', in: 'query' } }),
        }),
        body: { content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } }, required: true },
      },
      responses: { 200: { description: 'The sealed PDF', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problems(400, 401, 403, 404, 409, 415, 422) },
    }),
    async (c) => {
      const owner = await enterprise(c.req.header('authorization'))
      const query = c.req.valid('query')
      const pdf = new Uint8Array(await c.req.arrayBuffer())
      const placement = {
        ...(query.page !== undefined ? { page: query.page } : {}),
        ...(query.x !== undefined ? { x: query.x } : {}),
        ...(query.y !== undefined ? { y: query.y } : {}),
        ...(query.size !== undefined ? { sizeMm: query.size } : {}),
      }
      const { pdf: sealed, use } = await useSeal({ ...deps.seals, sealer: deps.sealer }, c.req.valid('param').id, owner, pdf, placement, query.reason)
      return c.body(sealed as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/pdf', 'tongban-document-sha256': use.signedSha256 })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/seals/{id}/uses',
      tags: ['seals'],
      summary: 'Every use of a seal (its owner, or the issuer)',
      security: [{ bearerAuth: [] }],
      request: { params: IdParam },
      responses: {
        200: {
          description: 'Uses, oldest first',
          content: { 'application/json': { schema: z.object({ uses: z.array(z.object({ actor: z.string(), purpose: z.string(), documentSha256: z.string(), signedSha256: z.string(), at: z.string() })) }) } },
        },
        ...problems(401, 403, 404),
      },
    }),
    async (c) => {
      const seal = await existing(c.req.valid('param').id)
      const header = c.req.header('authorization')
      if (!isAdmin(header)) {
        const owner = await enterprise(header)
        if (owner.uscc !== seal.owner.uscc) throw new NotFoundError('seal_not_found', `no seal ${seal.id}`)
      }
      const uses = await deps.seals.seals.listSealUses(seal.id)
      return c.json({ uses: uses.map((u) => ({ actor: u.actor, purpose: u.purpose, documentSha256: u.documentSha256, signedSha256: u.signedSha256, at: u.at.toISOString() })) }, 200)
    },
  )
  return app
}
