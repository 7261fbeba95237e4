import { NotFoundError } from '../errors'
import { holderKey, type Holder } from '../licence/licence'
import { checkHolder } from '../licence/licence-service'
import type { Clock } from '../ports'
import type { HolderAuthenticator, HolderPrincipal } from './holder'
import { newSecretToken, tokenHash } from './secret-token'

export const HOLDER_TOKEN_PREFIX = 'tbh_'

export interface HolderCredential {
  id: string
  holder: Holder
  label: string | null
  createdAt: Date
  revokedAt: Date | null
}

export interface HolderCredentialStore {
  insertHolderCredential(credential: HolderCredential, tokenHash: string): Promise<void>
  /** The holder of an unrevoked credential with this token hash. */
  holderCredentialByTokenHash(tokenHash: string): Promise<HolderCredential | undefined>
  /** Marks the credential revoked (once); undefined when there is no such credential. */
  revokeHolderCredential(id: string, at: Date): Promise<HolderCredential | undefined>
  /** Every credential of a holder (by holder key), revoked ones too, newest first. */
  listHolderCredentials(holderKey: string): Promise<HolderCredential[]>
}

export interface HolderCredentialDeps {
  credentials: HolderCredentialStore
  clock: Clock
  newId: () => string
}

/**
 * The bureau gives a holder a credential at the window, with a licence or at enterprise opening.
 * The token is shown once; only its hash is kept. A holder may hold several (a phone, an office
 * computer), each revocable on its own.
 */
export async function issueHolderCredential(
  deps: HolderCredentialDeps,
  holder: Holder,
  label: string | undefined,
): Promise<{ credential: HolderCredential; token: string }> {
  checkHolder(holder)
  const credential: HolderCredential = { id: deps.newId(), holder, label: label ?? null, createdAt: deps.clock.now(), revokedAt: null }
  const token = newSecretToken(HOLDER_TOKEN_PREFIX)
  await deps.credentials.insertHolderCredential(credential, await tokenHash(token))
  return { credential, token }
}

export async function revokeHolderCredential(deps: HolderCredentialDeps, id: string): Promise<HolderCredential> {
  const revoked = await deps.credentials.revokeHolderCredential(id, deps.clock.now())
  if (!revoked) throw new NotFoundError('holder_credential_not_found', `no holder credential ${id}`)
  return revoked
}

/** The bureau's own holder sign-in: a bearer `tbh_` token looked up by its hash on every request, so a revocation holds at once. */
export function bureauHolderAuthenticator(credentials: Pick<HolderCredentialStore, 'holderCredentialByTokenHash'>): HolderAuthenticator {
  return {
    async authenticate(token): Promise<HolderPrincipal | undefined> {
      if (!token.startsWith(HOLDER_TOKEN_PREFIX) || token.length > 100) return undefined
      const found = await credentials.holderCredentialByTokenHash(await tokenHash(token))
      return found ? { key: holderKey(found.holder), holder: found.holder, credentialId: found.id } : undefined
    },
  }
}
