import type { Holder } from '../licence/licence'

/**
 * Who a holder request speaks for. The holder API only ever asks this question, so the bureau's
 * own holder credentials (holder-credential.ts) can be replaced by a real identity provider
 * (e.g. an OIDC token from the provincial 政务服务 sign-in) by implementing HolderAuthenticator.
 */
export interface HolderPrincipal {
  /** `uscc:<统一社会信用代码>` or `id:<公民身份号码>`, as licences are stored (holderKey). */
  key: string
  holder: Holder
  /** The credential (or identity-provider session) the request came with, for the record. */
  credentialId: string
}

export interface HolderAuthenticator {
  /** The holder a bearer token belongs to, or undefined for an unknown, revoked or malformed one. */
  authenticate(token: string): Promise<HolderPrincipal | undefined>
}
