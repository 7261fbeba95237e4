import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { checkConsentCode, TooManyAttemptsError } from '../../core/holder/bank-check'
import type { AppDeps } from '../deps'
import { requireBank, type BankVariables } from '../middleware/holder-auth'
import { noStore } from '../middleware/no-store'
import { problems, VerificationReportSchema } from '../schemas'
import type { Hook } from './hook'
import { consentView, ConsentSchema } from './holder-views'

export const BankCheckAnswerSchema = z
  .object({
    checkedAt: z.string(),
    relyingParty: z.object({ id: z.string(), name: z.string(), branch: z.string() }),
    consent: ConsentSchema,
    reports: z.array(VerificationReportSchema).openapi({ description: 'One verification report per consented licence, with only the consented fields' }),
    subscribed: z.array(z.string()).openapi({ description: 'Licence ids whose status changes the bank will now be told of' }),
  })
  .openapi('BankCheckAnswer')

/** The bank API: a teller's check of a consent code. */
export function bankRoutes(deps: AppDeps, hook: Hook) {
  const app = new OpenAPIHono<{ Variables: BankVariables }>({ defaultHook: hook })
  app.use('/v1/bank/checks', noStore, requireBank(deps.holders.parties.parties))

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/bank/checks',
      tags: ['bank'],
      summary: 'Check a consent code: the verified licences with only the fields the holder consented to',
      description:
        'A wrong code, or another bank’s, is 404 consent_not_found; an expired, withdrawn or used-up one of this bank is 410. Ten failures per bank, or five per code, in 15 minutes make every further check 429 until the window moves on.',
      security: [{ bankAuth: [] }],
      request: {
        body: {
          content: { 'application/json': { schema: z
              .object({
                code: z.string().min(1).max(200).openapi({ example: '7K4M-XQ2P-9DHR', description: 'As read aloud or scanned from the QR code' }),
                subscribe: z.boolean().optional().openapi({ description: 'Also subscribe to status changes of these licences (the consent must allow it: statusUpdates)' }),
              })
              .strict() } },
          required: true,
        },
      },
      responses: { 200: { description: 'Checked', content: { 'application/json': { schema: BankCheckAnswerSchema } } }, ...problems(400, 401, 403, 404, 410, 429) },
    }),
    async (c) => {
      const bank = c.get('bank')
      try {
        const { code, subscribe } = c.req.valid('json')
        const result = await checkConsentCode(deps.holders.checks, bank, code, subscribe !== undefined ? { subscribe } : {})
        deps.log.info({ bankCheck: { bank: bank.id, consent: result.consent.id, licences: result.consent.licenceIds } }, `bank check by ${bank.name} ${bank.branch}`)
        return c.json(
          {
            checkedAt: result.checkedAt.toISOString(),
            relyingParty: { id: bank.id, name: bank.name, branch: bank.branch },
            consent: consentView(result.consent, bank, result.checkedAt),
            reports: result.reports,
            subscribed: result.subscribed,
          },
          200,
        )
      } catch (error) {
        if (error instanceof TooManyAttemptsError) c.header('Retry-After', String(error.retryAfterS))
        throw error
      }
    },
  )
  return app
}
