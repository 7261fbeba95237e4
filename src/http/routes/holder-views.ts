import { z } from '@hono/zod-openapi'
import QRCode from 'qrcode'
import { consentState, type Consent } from '../../core/holder/consent'
import type { RecordedLicenceUse } from '../../core/holder/licence-use'
import type { RelyingParty } from '../../core/holder/relying-party'
import { findLicenceType } from '../../core/licence/licence-types'

export const RelyingPartySchema = z
  .object({
    id: z.string(),
    kind: z.literal('bank'),
    name: z.string(),
    branch: z.string(),
    purposes: z.array(z.string()),
    mayRequest: z.record(z.string(), z.array(z.string())).openapi({ description: 'Per licence type key, the fields the bank may be shown' }),
    webhookUrl: z.string().nullable().openapi({ description: 'Where the bank is told of status changes it subscribed to; null: it cannot subscribe' }),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('RelyingParty')

export const relyingPartyView = (party: RelyingParty) => ({
  id: party.id,
  kind: party.kind,
  name: party.name,
  branch: party.branch,
  purposes: party.purposes,
  mayRequest: party.mayRequest,
  webhookUrl: party.webhookUrl,
  createdAt: party.createdAt.toISOString(),
  revokedAt: party.revokedAt?.toISOString() ?? null,
})

export const ConsentSchema = z
  .object({
    id: z.string(),
    relyingParty: z.object({ id: z.string(), name: z.string(), branch: z.string() }),
    licences: z.array(z.string()),
    purpose: z.string(),
    fields: z.array(z.string()),
    maxUses: z.number().int(),
    uses: z.number().int(),
    statusUpdates: z.boolean().openapi({ description: 'The bank may subscribe to later status changes of these licences' }),
    expiresAt: z.string(),
    withdrawnAt: z.string().nullable(),
    createdAt: z.string(),
    state: z.enum(['active', 'withdrawn', 'used_up', 'expired']),
  })
  .openapi('Consent')

export function consentView(consent: Consent, party: Pick<RelyingParty, 'id' | 'name' | 'branch'> | undefined, at: Date) {
  return {
    id: consent.id,
    relyingParty: { id: consent.relyingPartyId, name: party?.name ?? '', branch: party?.branch ?? '' },
    licences: consent.licenceIds,
    purpose: consent.purpose,
    fields: consent.fields,
    maxUses: consent.maxUses,
    uses: consent.uses,
    statusUpdates: consent.statusUpdates,
    expiresAt: consent.expiresAt.toISOString(),
    withdrawnAt: consent.withdrawnAt?.toISOString() ?? null,
    createdAt: consent.createdAt.toISOString(),
    state: consentState(consent, at),
  }
}

export const LicenceUseSchema = z
  .object({
    id: z.number().int(),
    licence: z.object({ id: z.string(), number: z.string(), type: z.string() }),
    by: z.object({ kind: z.enum(['bank', 'partner']), id: z.string(), name: z.string(), branch: z.string().nullable() }),
    purpose: z.string().nullable(),
    consent: z.string().nullable(),
    indication: z.string(),
    at: z.string(),
  })
  .openapi('LicenceUse')

export const licenceUseView = (use: RecordedLicenceUse) => ({
  id: use.id,
  licence: { id: use.licenceId, number: use.licenceNumber, type: findLicenceType(use.licenceTypeKey)?.name ?? use.licenceTypeKey },
  by: use.user,
  purpose: use.purpose,
  consent: use.consentId,
  indication: use.indication,
  at: use.at.toISOString(),
})

/** The consent QR code as an SVG a phone shows full screen and a counter scanner reads. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
}
