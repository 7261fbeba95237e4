import { createJwsSigner } from '../../src/adapters/crypto/jws-signer'
import { IDENTITY_CHECK_TYP } from '../../src/core/application/identity-check'
import type { JwsSigner } from '../../src/core/ports'
import { establishmentForLonggang } from './applications'
import type { PartnerPair } from './partner-pair'

/**
 * A forward as 赣州 would send it to 龙岗, built by hand so tests can change any part of it:
 * the application, the identity check's claims, its `typ`, or the key that signs it.
 */
export async function gzForward(
  pair: PartnerPair,
  options: { application?: Record<string, unknown>; claims?: Record<string, unknown>; typ?: string; signer?: JwsSigner } = {},
) {
  const { handlingRegion: _, ...request } = establishmentForLonggang()
  const id = crypto.randomUUID()
  const application = {
    id,
    ...request,
    acceptingRegion: { code: '360700', name: '赣州市' },
    handlingRegion: { code: '440307', name: '深圳市龙岗区' },
    submittedAt: new Date().toISOString(),
    submittedBy: 'window-staff-7',
    ...options.application,
  }
  const applicant = application.applicant as { kind: string; idNumber?: string; uscc?: string; name: string }
  const signer = options.signer ?? (await createJwsSigner(pair.gz.pki['attestation-signer']))
  const identityCheck = await signer.sign(
    {
      iss: 'http://gz.test',
      region: { code: '360700', name: '赣州市' },
      aud: '440307',
      jti: application.id,
      iat: Math.floor(Date.now() / 1000),
      applicationId: application.id,
      applicant: { kind: applicant.kind, identifier: applicant.idNumber ?? applicant.uscc, name: applicant.name },
      method: 'window',
      checkedBy: 'window-staff-7',
      checkedAt: new Date().toISOString(),
      ...options.claims,
    },
    { typ: options.typ ?? IDENTITY_CHECK_TYP },
  )
  return { application, identityCheck }
}

/** 赣州 sends a forward to 龙岗 through its signed partner client, as its outbox would. */
export function sendToLonggang(pair: PartnerPair, body: unknown) {
  return pair.gz.deps.partners.client.call('440307', { method: 'POST', path: '/v1/partner/applications', body })
}

/** How many applications and events 龙岗 holds (in all, or for one id). */
export async function lgHolds(pair: PartnerPair, id?: string) {
  const [row] = await pair.lg.db.query<{ applications: number; events: number }>(
    id
      ? 'SELECT (SELECT count(*) FROM applications WHERE id = $1)::int AS applications, (SELECT count(*) FROM application_events WHERE application_id = $1)::int AS events'
      : 'SELECT (SELECT count(*) FROM applications)::int AS applications, (SELECT count(*) FROM application_events)::int AS events',
    id ? [id] : [],
  )
  return row
}
