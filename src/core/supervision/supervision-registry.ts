import { calculateJwkThumbprint } from 'jose'
import { TongbanError, ValidationError } from '../errors'
import type { Clock } from '../ports'
import type { SupervisionSystem, SupervisionSystemStore } from './supervision-system'

export interface RegisterSupervisionRequest {
  name: string
  webhookUrl: string
  publicKey: Record<string, unknown>
}

export interface SupervisionRegistryDeps {
  systems: SupervisionSystemStore
  clock: Clock
  newId: () => string
}

export class SupervisionConflictError extends TongbanError {
  readonly status = 409
  constructor(
    readonly code: 'supervision_system_exists' | 'supervision_key_in_use',
    message: string,
  ) {
    super(message)
  }
}

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/

/**
 * The public P-256 key a system signs its calls with, or a 422 that says what is wrong. A JWK
 * carrying a private member (`d`) is refused rather than stripped: whoever sent it has leaked
 * the key and should make a new one.
 */
export async function supervisionPublicKey(jwk: Record<string, unknown>): Promise<SupervisionSystem['publicKey']> {
  const problem = (message: string) => new ValidationError('invalid_supervision_key', `publicKey: ${message}`, [{ pointer: '/publicKey', message }])
  if ('d' in jwk) throw problem('carries the private member d; send the public key only, and replace a key that was sent with its private part')
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw problem('must be an EC P-256 JWK (kty EC, crv P-256)')
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || !BASE64URL_32.test(jwk.x) || !BASE64URL_32.test(jwk.y)) throw problem('x and y must be 32-byte base64url coordinates')
  const key = { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x, y: jwk.y }
  try {
    await crypto.subtle.importKey('jwk', key, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])
  } catch {
    throw problem('x and y are not a point on P-256')
  }
  return key
}

export async function supervisionKeyid(key: SupervisionSystem['publicKey']): Promise<string> {
  return calculateJwkThumbprint(key, 'sha256')
}

/** Registers a supervision system through the admin API; a name or key already registered is a 409. */
export async function registerSupervisionSystem(deps: SupervisionRegistryDeps, request: RegisterSupervisionRequest): Promise<SupervisionSystem> {
  const publicKey = await supervisionPublicKey(request.publicKey)
  const now = deps.clock.now()
  const system: SupervisionSystem = { id: deps.newId(), name: request.name, webhookUrl: request.webhookUrl, publicKey, keyid: await supervisionKeyid(publicKey), createdAt: now, updatedAt: now }
  const result = await deps.systems.insert(system)
  if (result === 'name') throw new SupervisionConflictError('supervision_system_exists', `a supervision system named ${JSON.stringify(request.name)} is registered already`)
  if (result === 'keyid') throw new SupervisionConflictError('supervision_key_in_use', 'another supervision system is registered with this key; each system signs with its own')
  return system
}

/** Registers or updates, by name, the systems the configuration lists (SUPERVISION_SYSTEMS), at start. */
export async function registerConfiguredSystems(deps: SupervisionRegistryDeps, configured: RegisterSupervisionRequest[]): Promise<void> {
  for (const request of configured) {
    const publicKey = await supervisionPublicKey(request.publicKey)
    const now = deps.clock.now()
    const result = await deps.systems.upsertByName({ id: deps.newId(), name: request.name, webhookUrl: request.webhookUrl, publicKey, keyid: await supervisionKeyid(publicKey), createdAt: now, updatedAt: now })
    if (result === 'keyid') throw new SupervisionConflictError('supervision_key_in_use', `SUPERVISION_SYSTEMS: the key of ${request.name} is registered for another system`)
  }
}
