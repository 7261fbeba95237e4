import type { MiddlewareHandler } from 'hono'
import { PartnerSignatureError, SUPERVISION_REQUEST_TAG, type SignatureRefusal, type VerifyingKey } from '../../adapters/crypto/http-signatures'
import { TongbanError } from '../../core/errors'
import type { SupervisionSystem, SupervisionSystemStore } from '../../core/supervision/supervision-system'
import type { Clock } from '../../core/ports'
import { signedRequestOf, verifyFreshRequest, type NonceStore } from './signed-request'

/** Why a supervision call's signature was refused: the partner door's refusals, under codes that name this door. */
export type SupervisionRefusal =
  | 'supervision_unsigned'
  | 'supervision_malformed_signature'
  | 'supervision_unknown_key'
  | 'supervision_bad_signature'
  | 'supervision_outside_clock_window'
  | 'supervision_digest_mismatch'
  | 'supervision_replayed'

const SUPERVISION_CODES: Record<SignatureRefusal, SupervisionRefusal> = {
  partner_unsigned: 'supervision_unsigned',
  partner_malformed_signature: 'supervision_malformed_signature',
  partner_unknown_key: 'supervision_unknown_key',
  partner_bad_signature: 'supervision_bad_signature',
  partner_outside_clock_window: 'supervision_outside_clock_window',
  partner_digest_mismatch: 'supervision_digest_mismatch',
  partner_replayed: 'supervision_replayed',
}

export class SupervisionSignatureError extends TongbanError {
  readonly status = 401
  constructor(
    readonly code: SupervisionRefusal,
    message: string,
  ) {
    super(message)
  }
}

export type SupervisionVariables = { supervisionSystem: SupervisionSystem }

export interface SupervisionDoorDeps {
  systems: Pick<SupervisionSystemStore, 'findByKeyid'>
  nonces: NonceStore
  clock: Clock
}

async function keyOf(system: SupervisionSystem): Promise<VerifyingKey> {
  const publicKey = await crypto.subtle.importKey('jwk', system.publicKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
  // Nonces live in the system's own namespace, apart from every partner region's.
  return { keyid: system.keyid, publicKey, region: `supervision:${system.id}` }
}

/**
 * The door of the supervision API: an RFC 9421 signature in the partner profile
 * (contracts/partner-api.md) with the tag `tongban-supervision-request`, by the key registered
 * for a supervision system, inside its clock window, with a nonce never seen before. The key
 * is looked up in the database on every call, so a system registered through another process
 * is known at once.
 */
export function supervisionAuth(deps: SupervisionDoorDeps, publicUrl: string): MiddlewareHandler<{ Variables: SupervisionVariables }> {
  return async (c, next) => {
    const request = await signedRequestOf(c, publicUrl)
    let system: SupervisionSystem | undefined
    try {
      await verifyFreshRequest(
        request,
        async (keyid) => {
          system = await deps.systems.findByKeyid(keyid)
          return system ? keyOf(system) : undefined
        },
        deps.nonces,
        deps.clock.now(),
        SUPERVISION_REQUEST_TAG,
      )
    } catch (error) {
      if (!(error instanceof PartnerSignatureError)) throw error
      const message = error.code === 'partner_unknown_key' ? 'keyid names no registered supervision system’s key' : error.message.replace('partner-auth key', 'registered key')
      throw new SupervisionSignatureError(SUPERVISION_CODES[error.code], message)
    }
    c.set('supervisionSystem', system as SupervisionSystem)
    await next()
  }
}
