import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { MATTERS, type Matter } from '../../core/application/matters'
import type { AppDeps } from '../deps'
import type { Hook } from './hook'

const MatterSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    nameEn: z.string(),
    department: z.string(),
    owningRegion: z.object({ code: z.string(), name: z.string() }),
    acceptedHere: z.boolean().openapi({ description: 'Applications for it can be made at this region’s window' }),
    licenceType: z.object({ key: z.string(), code: z.string(), name: z.string() }),
    attachments: z.array(z.object({ key: z.string(), name: z.string(), required: z.boolean() })),
    form: z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema (2020-12) of the application form' }),
  })
  .openapi('Matter')

export function matterView(matter: Matter, owningRegion: { code: string; name: string }) {
  return {
    code: matter.code,
    name: matter.name,
    nameEn: matter.nameEn,
    department: matter.department,
    owningRegion,
    acceptedHere: true,
    licenceType: { key: matter.licenceType.key, code: matter.licenceType.code, name: matter.licenceType.name },
    attachments: matter.attachments,
    form: matter.form,
  }
}

export function matterRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono({ defaultHook: hook })
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/matters',
      tags: ['applications'],
      summary: 'The matters (事项) this region handles, and those it may accept for partners by agreement',
      responses: { 200: { description: 'Matters', content: { 'application/json': { schema: z.object({ matters: z.array(MatterSchema) }) } } } },
    }),
    (c) => {
      const own = MATTERS.map((matter) => matterView(matter, deps.region))
      const forPartners = deps.matterDirectory.partnerMatters(deps.clock.now()).flatMap(({ region, matterCodes }) =>
        MATTERS.filter((matter) => matterCodes.includes(matter.code)).map((matter) => matterView(matter, region)),
      )
      return c.json({ matters: [...own, ...forPartners] }, 200)
    },
  )
  return app
}
