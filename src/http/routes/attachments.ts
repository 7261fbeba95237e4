import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { HonoRequest } from 'hono'
import { attachmentContent, ATTACHMENT_MEDIA_TYPES, holdAttachment, MAX_ATTACHMENT_BYTES } from '../../core/application/attachments'
import type { AppDeps } from '../deps'
import { requireAdmin, type AuthVariables } from '../middleware/auth'
import { noStore } from '../middleware/no-store'
import { problems } from '../schemas'
import type { Hook } from './hook'

export const Sha256Param = z.object({ sha256: z.string().openapi({ param: { name: 'sha256', in: 'path' }, description: 'Lower-case hex SHA-256 of the document' }) })

export const HeldAttachmentSchema = z
  .object({
    sha256: z.string().openapi({ description: 'Lower-case hex SHA-256 of the document: what an application’s attachment names' }),
    size: z.number().int(),
    mediaType: z.enum(ATTACHMENT_MEDIA_TYPES),
  })
  .openapi('HeldAttachment')

const binary = { schema: z.string().openapi({ format: 'binary' }) }
export const documentContent = Object.fromEntries(ATTACHMENT_MEDIA_TYPES.map((type) => [type, binary]))

/** The media type of a request, without parameters. */
const mediaTypeOf = (header: string | undefined) => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

/**
 * Holds the document a request's body carries, typed by its Content-Type: what the window's
 * and a bank branch's uploads both do. Returns the answer's body and whether it is new here.
 */
export async function holdUploaded(deps: Pick<AppDeps, 'store' | 'clock'>, request: HonoRequest): Promise<{ held: z.infer<typeof HeldAttachmentSchema>; created: boolean }> {
  const content = new Uint8Array(await request.arrayBuffer())
  const { attachment, created } = await holdAttachment({ store: deps.store, clock: deps.clock }, mediaTypeOf(request.header('content-type')), content)
  return { held: { sha256: attachment.sha256, size: attachment.size, mediaType: attachment.mediaType as (typeof ATTACHMENT_MEDIA_TYPES)[number] }, created }
}

/** The attachment store at the window: staff upload the documents an application will name, and read them back. */
export function attachmentRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: hook })
  app.use('/v1/attachments', noStore, requireAdmin(deps.adminToken))
  app.use('/v1/attachments/*', noStore, requireAdmin(deps.adminToken))

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/attachments',
      tags: ['applications'],
      summary: 'Upload a document an application will name by its SHA-256; held once per content',
      description: `The raw document, as ${ATTACHMENT_MEDIA_TYPES.join(', ')}, at most ${MAX_ATTACHMENT_BYTES} bytes; it must begin as its type does (%PDF-, the PNG signature, FF D8 FF).`,
      security: [{ bearerAuth: [] }],
      request: { body: { content: documentContent, required: true } },
      responses: {
        201: { description: 'Held here now', content: { 'application/json': { schema: HeldAttachmentSchema } } },
        200: { description: 'Held here already (the same bytes were uploaded before)', content: { 'application/json': { schema: HeldAttachmentSchema } } },
        ...problems(401, 413, 415, 422),
      },
    }),
    async (c) => {
      const { held, created } = await holdUploaded(deps, c.req)
      c.header('Location', `/v1/attachments/${held.sha256}`)
      return c.json(held, created ? 201 : 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/attachments/{sha256}',
      tags: ['applications'],
      summary: 'A document held here, with its media type',
      security: [{ bearerAuth: [] }],
      request: { params: Sha256Param },
      responses: { 200: { description: 'The document', content: documentContent }, ...problems(401, 404) },
    }),
    async (c) => {
      const { attachment, content } = await attachmentContent(deps.store, c.req.valid('param').sha256)
      // Served as a download: a document someone uploaded is never rendered in this origin.
      return c.body(content as Uint8Array<ArrayBuffer>, 200, { 'content-type': attachment.mediaType, 'content-disposition': 'attachment' })
    },
  )
  return app
}
