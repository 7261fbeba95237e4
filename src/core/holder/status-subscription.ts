import type { LicenceChange } from '../licence/licence'
import type { OutboxWrites } from '../outbox/outbox'
import type { JwsSigner } from '../ports'
import type { SubscriptionReads } from './licence-subscription'

/**
 * A bank relied on a licence and, because the holder's consent allowed it (`statusUpdates`),
 * is told when the licence is suspended, reinstated, revoked or changed (a new version). The
 * message is a JWS by the region's attestation key, sent through the outbox to the bank's
 * registered webhook and retried until it is taken.
 */
export const LICENCE_STATUS_EVENT_TYP = 'tongban-licence-status+jwt'
export const LICENCE_STATUS_TOPIC = 'bank.licence-status'

/** `bank:<relying party id>`: resolved to the bank's webhook when sent, so a moved webhook is followed and a revoked bank gets nothing. */
export const bankDestination = (relyingPartyId: string) => `bank:${relyingPartyId}`
export const relyingPartyOfDestination = (destination: string) => (destination.startsWith('bank:') ? destination.slice(5) : undefined)

export interface StatusEventDeps {
  signer: JwsSigner
  newId: () => string
  publicUrl: string
  region: { code: string; name: string }
}

/**
 * Enqueues one signed status event per subscribed bank, inside the change's transaction. For a
 * change the subscribers are the old version's: it is the one they relied on, and the event
 * names the version that replaced it.
 */
export async function enqueueLicenceStatusEvents(
  deps: StatusEventDeps,
  tx: SubscriptionReads & OutboxWrites & { nextSequence(name: string): Promise<number> },
  change: LicenceChange,
): Promise<void> {
  if (change.kind === 'issued') return
  const relied = change.kind === 'changed' && change.previous ? change.previous : change.licence
  for (const subscription of await tx.listLicenceSubscriptions(relied.id)) {
    const id = deps.newId()
    const seq = await tx.nextSequence(`licence_status:${subscription.relyingPartyId}`)
    const claims = {
      iss: deps.publicUrl,
      aud: subscription.relyingPartyId,
      jti: id,
      iat: Math.floor(change.at.getTime() / 1000),
      seq,
      type: `licence.${change.kind}`,
      occurredAt: change.at.toISOString(),
      region: deps.region,
      subscription: subscription.id,
      consent: subscription.consentId,
      licence: { id: relied.id, number: relied.number, status: change.kind === 'changed' ? 'superseded' : change.licence.status },
      ...(change.kind === 'changed' ? { replacedBy: { id: change.licence.id, number: change.licence.number, version: change.licence.version } } : {}),
      reason: change.reason,
    }
    await tx.enqueueMessage({
      id,
      topic: LICENCE_STATUS_TOPIC,
      destination: bankDestination(subscription.relyingPartyId),
      headers: { 'content-type': 'application/jwt', 'tongban-message-id': id },
      body: await deps.signer.sign(claims, { typ: LICENCE_STATUS_EVENT_TYP }),
    })
  }
}
