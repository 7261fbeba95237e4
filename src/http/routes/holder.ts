import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { CONSENT_MAX_MINUTES, CONSENT_MAX_USES, createConsent, withdrawConsent } from '../../core/holder/consent'
import type { HolderPrincipal } from '../../core/holder/holder'
import { NotFoundError } from '../../core/errors'
import { holderKey, type Licence } from '../../core/licence/licence'
import type { AppDeps } from '../deps'
import { requireHolder, type HolderVariables } from '../middleware/holder-auth'
import { noStore } from '../middleware/no-store'
import { LicenceSchema, problems } from '../schemas'
import type { Hook } from './hook'
import { ConsentSchema, consentView, LicenceUseSchema, licenceUseView, qrSvg, RelyingPartySchema, relyingPartyView } from './holder-views'
import { licenceView } from './licences'

const holderAuth = [{ holderAuth: [] }]
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

export const CreateConsentSchema = z
  .object({
    relyingParty: z.string().min(1).max(64).openapi({ description: 'The id of a registered bank (GET /v1/holder/relying-parties)' }),
    licences: z.array(z.string().min(1).max(64)).min(1).max(10),
    purpose: z.string().trim().min(1).max(64).openapi({ example: '开户' }),
    fields: z.array(z.string().min(1).max(64)).max(50).openapi({ description: 'Licence fields to disclose (holder.idNumber for a person’s whole identity number); the holder’s name and code are always shown' }),
    expiresInMinutes: z.number().int().min(1).max(CONSENT_MAX_MINUTES).openapi({ example: 30, description: `1 minute to ${CONSENT_MAX_MINUTES / 1440} days` }),
    maxUses: z.number().int().min(1).max(CONSENT_MAX_USES).optional().openapi({ description: 'Checks allowed; 1 unless said otherwise' }),
    statusUpdates: z.boolean().optional().openapi({ description: 'Let the bank be told (signed webhook) when these licences are suspended, revoked or changed; off unless said' }),
  })
  .strict()
  .openapi('CreateConsentRequest')

const HolderLicenceSchema = LicenceSchema.extend({ links: z.object({ pdf: z.string(), credential: z.string() }) }).openapi('HolderLicence')

export function holderLicenceView(licence: Licence, at: Date) {
  return { ...licenceView(licence, at), links: { pdf: `/v1/holder/licences/${licence.id}/pdf`, credential: `/v1/holder/licences/${licence.id}/credential` } }
}

/** One of the holder's own licences; another holder's is answered exactly like one that does not exist. */
export async function ownLicence(deps: AppDeps, holder: HolderPrincipal, id: string): Promise<Licence> {
  const licence = await deps.store.getLicence(id)
  if (!licence || holderKey(licence.holder) !== holder.key) throw new NotFoundError('licence_not_found', `you hold no licence ${id}`)
  return licence
}

/** The consents of a holder with the name and branch of each bank. */
export async function holderConsents(deps: AppDeps, holder: HolderPrincipal) {
  const parties = new Map((await deps.holders.parties.parties.listRelyingParties()).map((p) => [p.id, p]))
  const at = deps.clock.now()
  return (await deps.holders.consents.consents.listConsents(holder.key)).map((consent) => consentView(consent, parties.get(consent.relyingPartyId), at))
}

/** The holder API: a holder's own licences, consents to banks, and every use of the licences. */
export function holderRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: HolderVariables }>({ defaultHook: hook })
  app.use('/v1/holder/*', noStore, requireHolder(deps.holders.authenticator))

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/licences',
      tags: ['holder'],
      summary: 'The holder’s licences, every version, with status',
      security: holderAuth,
      responses: {
        200: { description: 'Licences', content: { 'application/json': { schema: z.object({ holder: z.unknown(), licences: z.array(HolderLicenceSchema) }) } } },
        ...problems(401),
      },
    }),
    async (c) => {
      const holder = c.get('holder')
      const at = deps.clock.now()
      return c.json({ holder: holder.holder, licences: (await deps.holders.licencesOf(holder.key)).map((licence) => holderLicenceView(licence, at)) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/licences/{id}/pdf',
      tags: ['holder'],
      summary: 'One of the holder’s licences as a signed PDF',
      security: holderAuth,
      request: { params: IdParam },
      responses: { 200: { description: 'PDF', content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const licence = await ownLicence(deps, c.get('holder'), c.req.valid('param').id)
      const pdf = await deps.licenceDocuments.render(licence)
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${licence.number}.pdf"` })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/licences/{id}/credential',
      tags: ['holder'],
      summary: 'One of the holder’s licences as its credential (compact JWS)',
      security: holderAuth,
      request: { params: IdParam },
      responses: { 200: { description: 'Compact JWS', content: { 'application/vc+jwt': { schema: z.string() } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const licence = await ownLicence(deps, c.get('holder'), c.req.valid('param').id)
      return c.body(licence.credential, 200, { 'content-type': 'application/vc+jwt' })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/relying-parties',
      tags: ['holder'],
      summary: 'The banks a holder can give a consent to, and what each may ask for',
      security: holderAuth,
      responses: { 200: { description: 'Banks', content: { 'application/json': { schema: z.object({ relyingParties: z.array(RelyingPartySchema) }) } } }, ...problems(401) },
    }),
    async (c) => c.json({ relyingParties: (await deps.holders.parties.parties.listRelyingParties()).filter((p) => !p.revokedAt).map(relyingPartyView) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/holder/consents',
      tags: ['holder'],
      summary: 'Let one bank see named fields of named licences, for a purpose, until an expiry; returns the code to read aloud and its QR code',
      description: 'The code is shown once: only its hash is kept. A consent is single-use unless `maxUses` says otherwise.',
      security: holderAuth,
      request: { body: { content: { 'application/json': { schema: CreateConsentSchema } }, required: true } },
      responses: {
        201: {
          description: 'Consent',
          content: {
            'application/json': {
              schema: ConsentSchema.extend({
                code: z.string().openapi({ example: '7K4M-XQ2P-9DHR', description: '12 characters of 23456789ABCDEFGHJKMNPQRSTVWXYZ, grouped in fours' }),
                qr: z.object({ text: z.string(), svg: z.string() }),
              }),
            },
          },
        },
        ...problems(400, 401, 404, 422),
      },
    }),
    async (c) => {
      const holder = c.get('holder')
      const { consent, code, qrText } = await createConsent(deps.holders.consents, holder, c.req.valid('json'))
      const party = await deps.holders.parties.parties.getRelyingParty(consent.relyingPartyId)
      c.header('Location', `/v1/holder/consents/${consent.id}`)
      return c.json({ ...consentView(consent, party, deps.clock.now()), code, qr: { text: qrText, svg: await qrSvg(qrText) } }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/consents',
      tags: ['holder'],
      summary: 'The consents the holder gave, newest first, with their state',
      security: holderAuth,
      responses: { 200: { description: 'Consents', content: { 'application/json': { schema: z.object({ consents: z.array(ConsentSchema) }) } } }, ...problems(401) },
    }),
    async (c) => c.json({ consents: await holderConsents(deps, c.get('holder')) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/holder/consents/{id}/withdraw',
      tags: ['holder'],
      summary: 'Withdraw a consent: its code stops working at once (withdrawing twice changes nothing)',
      security: holderAuth,
      request: { params: IdParam },
      responses: { 200: { description: 'The consent, withdrawn', content: { 'application/json': { schema: ConsentSchema } } }, ...problems(401, 404) },
    }),
    async (c) => {
      const consent = await withdrawConsent(deps.holders.consents, c.get('holder'), c.req.valid('param').id)
      return c.json(consentView(consent, await deps.holders.parties.parties.getRelyingParty(consent.relyingPartyId), deps.clock.now()), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/holder/uses',
      tags: ['holder'],
      summary: 'Every check of the holder’s licences: by which bank or partner region, when, for what purpose, through which consent',
      security: holderAuth,
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ param: { name: 'limit', in: 'query' } }) }) },
      responses: { 200: { description: 'Uses, newest first', content: { 'application/json': { schema: z.object({ uses: z.array(LicenceUseSchema) }) } } }, ...problems(400, 401) },
    }),
    async (c) => c.json({ uses: (await deps.licenceUses.listForHolder(c.get('holder').key, c.req.valid('query').limit ?? 200)).map(licenceUseView) }, 200),
  )
  return app
}
