import type { OutboxDeliveryCounts } from './deps'
import { z } from '@hono/zod-openapi'

/** Request and response schemas: they validate at the edge and generate GET /openapi.json. */

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable identifier of the problem; see contracts/problems.md' }),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string().optional(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .openapi('Problem')

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } }

export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: 'Problem (RFC 9457)', content: problemContent }]))

export const HolderSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('enterprise'),
      uscc: z.string().openapi({ example: '91360702MA35XXXX0X', description: '统一社会信用代码 (GB 32100), checked' }),
      name: z.string().trim().min(1).max(128),
    }).strict(),
    z.object({
      kind: z.literal('person'),
      idNumber: z.string().openapi({ description: '公民身份号码 (GB 11643), checked' }),
      name: z.string().trim().min(1).max(64),
    }).strict(),
  ])
  .openapi('Holder')

export const IssueLicenceSchema = z
  .object({
    type: z.string().min(1).max(64).openapi({ example: 'business-licence', description: 'Licence type key or GB/T 36904 type code' }),
    holder: HolderSchema,
    fields: z.record(z.string(), z.unknown()).openapi({ description: "Validated against the type's JSON Schema" }),
    validFrom: z.string().openapi({ example: '2026-01-01' }),
    validUntil: z.string().openapi({ example: '2046-01-01' }),
  })
  .strict()
  .openapi('IssueLicenceRequest')

export const LicenceSchema = z
  .object({
    id: z.string().uuid(),
    number: z.string().openapi({ description: 'GB/T 36904 licence identifier' }),
    version: z.number().int(),
    type: z.object({ key: z.string(), code: z.string(), name: z.string() }),
    holder: HolderSchema,
    fields: z.record(z.string(), z.unknown()),
    validFrom: z.string(),
    validUntil: z.string(),
    status: z.enum(['active', 'suspended', 'revoked', 'expired', 'superseded']),
    statusReason: z.string().nullable(),
    issuedAt: z.string(),
    credential: z.string().openapi({ description: 'Compact JWS (vc+jwt), a W3C VC 2.0 LicenceCredential' }),
    supersedes: z.string().nullable().openapi({ description: 'The earlier version this one replaced' }),
    events: z.array(z.object({ action: z.string(), reason: z.string().nullable(), actor: z.string(), at: z.string() })).optional(),
  })
  .openapi('Licence')

export const StatusChangeSchema = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .openapi('StatusChangeRequest')

export const ChangeLicenceSchema = z
  .object({
    reason: z.string().trim().min(1).max(500),
    fields: z.record(z.string(), z.unknown()).optional().openapi({ description: 'The complete new fields (replacing the old ones)' }),
    holderName: z.string().trim().min(1).max(128).optional(),
    validUntil: z.string().optional(),
  })
  .strict()
  .refine((body) => body.fields !== undefined || body.holderName !== undefined || body.validUntil !== undefined, { message: 'a change changes fields, holderName or validUntil' })
  .openapi('ChangeLicenceRequest')

/** The longest credential a verify request carries; the fast path in routes/verify.ts checks the same bound. */
export const MAX_CREDENTIAL_LENGTH = 65536

export const VerifyRequestSchema = z
  .object({
    credential: z.string().min(1).max(MAX_CREDENTIAL_LENGTH).optional().openapi({ description: 'A licence credential (compact JWS)' }),
    qr: z.string().min(1).max(8192).optional().openapi({ description: 'A QR code payload from a licence PDF' }),
    at: z.string().datetime({ offset: true }).optional().openapi({ description: 'Evaluate validity at this time (default: now)' }),
  })
  .strict()
  .refine((body) => (body.credential === undefined) !== (body.qr === undefined), { message: 'give exactly one of credential or qr' })
  .openapi('VerifyRequest')

const CheckSchema = z.object({
  name: z.string(),
  question: z.string(),
  result: z.enum(['passed', 'failed', 'skipped']),
  detail: z.string(),
})

export const VerificationReportSchema = z
  .object({
    indication: z.enum(['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE']),
    subIndication: z.string().nullable(),
    format: z.enum(['jws', 'qr', 'pdf']),
    policy: z.object({ name: z.string(), at: z.string() }),
    checks: z.array(CheckSchema),
    licence: z
      .object({
        id: z.string().nullable(),
        number: z.string(),
        version: z.number(),
        type: z.object({ key: z.string().nullable(), code: z.string(), name: z.string() }),
        holder: z.unknown(),
        fields: z.record(z.string(), z.unknown()),
        validFrom: z.string(),
        validUntil: z.string(),
        status: z.enum(['active', 'suspended', 'revoked', 'expired', 'not_yet_valid', 'unknown']),
      })
      .nullable(),
    issuer: z.object({ regionCode: z.string(), regionName: z.string(), name: z.string(), id: z.string() }).nullable(),
    signer: z
      .object({ kid: z.string(), subject: z.string(), issuer: z.string(), serialNumber: z.string(), notBefore: z.string(), notAfter: z.string(), chain: z.array(z.string()) })
      .nullable(),
  })
  .openapi('VerificationReport')

/** How delivery of the outbox's messages to one destination stands (src/adapters/postgres/pg-outbox.ts). */
export const DeliverySchema = z.object({
  pending: z.number().int().openapi({ description: 'Messages waiting for delivery (retried with backoff)' }),
  delivered: z.number().int(),
  abandoned: z.number().int().openapi({ description: 'Messages the destination refused for good' }),
  lastError: z.string().nullable().openapi({ description: 'The last delivery failure, if any' }),
  lastDeliveredAt: z.string().nullable(),
})

export function deliveryView(counts: OutboxDeliveryCounts | undefined) {
  if (!counts) return { pending: 0, delivered: 0, abandoned: 0, lastError: null, lastDeliveredAt: null }
  return { ...counts, lastDeliveredAt: counts.lastDeliveredAt?.toISOString() ?? null }
}
