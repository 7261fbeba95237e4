import type { LicenceChange } from '../licence/licence'
import { findLicenceType } from '../licence/licence-types'
import type { JwsSigner, StoreTransaction } from '../ports'
import { supervisionDestination, type SupervisionSystem } from './supervision-system'

/** The JWS `typ` of a supervision event (contracts/supervision.md); never taken for a credential or a receipt. */
export const SUPERVISION_EVENT_TYP = 'tongban-event+jwt'
export const SUPERVISION_EVENT_TOPIC = 'supervision.licence-event'

export type SupervisionEventType = `licence.${LicenceChange['kind']}`

export interface SupervisionEventDeps {
  /** The region's attestation-signer key, which its trust list publishes. */
  signer: JwsSigner
  newId: () => string
  /** The region's PUBLIC_URL: `iss` of every event. */
  publicUrl: string
  region: { code: string; name: string }
}

/** The event's claims, one system's copy: `aud`, `jti` and `seq` are that system's. */
export function supervisionEventClaims(deps: SupervisionEventDeps, change: LicenceChange, system: SupervisionSystem, id: string, seq: number) {
  const { licence, previous } = change
  const type = findLicenceType(licence.typeKey)
  return {
    iss: deps.publicUrl,
    aud: system.name,
    jti: id,
    iat: Math.floor(change.at.getTime() / 1000),
    seq,
    type: `licence.${change.kind}` as SupervisionEventType,
    occurredAt: change.at.toISOString(),
    region: deps.region,
    licence: {
      id: licence.id,
      number: licence.number,
      version: licence.version,
      type: { key: licence.typeKey, code: licence.typeCode, name: type?.name ?? licence.typeKey },
      holder: licence.holder,
      status: licence.status,
      validFrom: licence.validFrom.toISOString(),
      validUntil: licence.validUntil.toISOString(),
      issuedAt: licence.issuedAt.toISOString(),
    },
    ...(previous ? { previous: { id: previous.id, number: previous.number, version: previous.version } } : {}),
    reason: change.reason,
    actor: change.actor,
  }
}

/**
 * Enqueues the change as a signed event to every registered supervision system, inside the
 * transaction of the change: the events exist exactly when the change does. Each system gets
 * its own copy, with its name as `aud` (a copy cannot be replayed to another system), its own
 * message id as `jti`, and the next number of its own sequence as `seq`, so a system sees its
 * events numbered 1, 2, 3, … without gaps and can tell a missing one from a late one.
 */
export async function enqueueSupervisionEvents(deps: SupervisionEventDeps, tx: StoreTransaction, change: LicenceChange): Promise<void> {
  for (const system of await tx.listSupervisionSystems()) {
    const id = deps.newId()
    const seq = await tx.nextSequence(`supervision_event:${system.id}`)
    const jws = await deps.signer.sign(supervisionEventClaims(deps, change, system, id, seq), { typ: SUPERVISION_EVENT_TYP })
    await tx.enqueueMessage({
      id,
      topic: SUPERVISION_EVENT_TOPIC,
      destination: supervisionDestination(system.id),
      headers: { 'content-type': 'application/jwt', 'tongban-message-id': id },
      body: jws,
    })
  }
}
