import { z } from 'zod'
import { ConfigurationError } from './core/errors'
import { assertUscc, usccProblem, withUsccCheck } from './core/licence/uscc'

/**
 * The environment is read and validated once, at start. A bad value stops the service with a
 * message that names the variable and what is wrong, rather than failing later mid-request.
 */
export interface Config {
  port: number
  publicUrl: string
  region: { code: string; name: string }
  /** The issuing bureau: its name and 统一社会信用代码 (the issuer code in licence numbers). */
  bureau: { name: string; uscc: string }
  dataDir: string
  databaseUrl: string | undefined
  adminToken: string | undefined
  logLevel: string
  /** Seconds between scheduled refreshes of each partner's trust list. */
  partnerRefreshSeconds: number
  /** A partner's status list is fetched again when the copy held is older than this many seconds. */
  partnerStatusMaxAgeSeconds: number
  /** Pinned partner roots read at start (public records, keys/partners/README.md). */
  partnerPinsDir: string | undefined
  /** Outbox retries: the first delay and the longest, in seconds (docs/outbox.md). */
  outboxRetryBaseSeconds: number
  outboxRetryCapSeconds: number
  /** Supervision systems registered (or updated, by name) at start, besides those the admin API registers. */
  supervisionSystems: Array<{ name: string; webhookUrl: string; publicKey: Record<string, unknown> }>
}

const regionCode = z.string().regex(/^\d{6}$/, 'must be a six-digit GB/T 2260 region code')
  .refine((code) => !code.startsWith('00'), 'must be a GB/T 2260 region code (no province 00)')

function seconds(fallback: number, minimum: number) {
  return z
    .string()
    .regex(/^\d{1,7}$/, `must be a whole number of seconds, at least ${minimum}`)
    .transform(Number)
    .refine((value) => value >= minimum, `must be a whole number of seconds, at least ${minimum}`)
    .default(fallback)
}

const schema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a TCP port number, 1 to 65535')
    .transform(Number)
    .refine((port) => port >= 1 && port <= 65535, 'must be a TCP port number, 1 to 65535')
    .default(8080),
  // Every published endpoint is this URL plus a path, so it can carry neither a query, a fragment nor credentials.
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((url) => !URL.canParse(url) || (!/[?#]/.test(url) && !new URL(url).username && !new URL(url).password), 'must be a base URL without query, fragment or credentials')
    .optional(),
  REGION_CODE: regionCode.default('360700'),
  REGION_NAME: z.string().trim().min(1).max(64).default('赣州市'),
  BUREAU_NAME: z.string().trim().min(1).max(64).optional(),
  BUREAU_USCC: z.string().optional().superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : usccProblem(value)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  }),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PARTNER_REFRESH_S: seconds(3600, 60),
  PARTNER_STATUS_MAX_AGE_S: seconds(60, 0),
  PARTNER_PINS_DIR: z.string().min(1).optional(),
  OUTBOX_RETRY_BASE_S: seconds(2, 1),
  OUTBOX_RETRY_CAP_S: seconds(300, 1),
  SUPERVISION_SYSTEMS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of { name, webhookUrl, publicKey }' })
        return z.NEVER
      }
    })
    .pipe(
      z.array(
        z
          .object({
            name: z.string().trim().min(1).max(100),
            webhookUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
            publicKey: z.record(z.string(), z.unknown()),
          })
          .strict(),
      ),
    )
    .default([]),
})

/**
 * A bureau without a configured credit code gets a stable development one derived from its
 * region: registration authority 1 (机构编制), type 1 (机关), the region, a fixed organisation
 * code, and the GB 32100 check character.
 */
export function developmentBureauUscc(code: string): string {
  return withUsccCheck(`11${code}MB0000001`)
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = schema.safeParse(cleaned)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigurationError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const bureauUscc = e.BUREAU_USCC ?? developmentBureauUscc(e.REGION_CODE)
  assertUscc(bureauUscc)
  return {
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
    region: { code: e.REGION_CODE, name: e.REGION_NAME },
    bureau: { name: e.BUREAU_NAME ?? `${e.REGION_NAME}行政审批局`, uscc: bureauUscc },
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    partnerRefreshSeconds: e.PARTNER_REFRESH_S,
    partnerStatusMaxAgeSeconds: e.PARTNER_STATUS_MAX_AGE_S,
    partnerPinsDir: e.PARTNER_PINS_DIR,
    outboxRetryBaseSeconds: e.OUTBOX_RETRY_BASE_S,
    outboxRetryCapSeconds: Math.max(e.OUTBOX_RETRY_CAP_S, e.OUTBOX_RETRY_BASE_S),
    supervisionSystems: e.SUPERVISION_SYSTEMS,
  }
}
