/**
 * A supervision system (审管联动): a department's system that hears of every licence change
 * at its webhook and may suspend or revoke a licence after an inspection, with requests signed
 * by its key (contracts/supervision.md).
 */
export interface SupervisionSystem {
  id: string
  name: string
  webhookUrl: string
  /** The system's public key for its signed calls: a P-256 JWK, public members only. */
  publicKey: { kty: 'EC'; crv: 'P-256'; x: string; y: string }
  /** RFC 7638 thumbprint of the key: the `keyid` of its RFC 9421 signatures. */
  keyid: string
  createdAt: Date
  updatedAt: Date
}

/** Reads of the registered systems, inside a transaction (which systems hear of a change). */
export interface SupervisionReads {
  listSupervisionSystems(): Promise<SupervisionSystem[]>
}

/** The stored systems, for registration and for the inbound door. */
export interface SupervisionSystemStore {
  list(): Promise<SupervisionSystem[]>
  get(id: string): Promise<SupervisionSystem | undefined>
  findByKeyid(keyid: string): Promise<SupervisionSystem | undefined>
  /** Inserts a new system; `name` or `keyid` taken already says which. */
  insert(system: SupervisionSystem): Promise<'inserted' | 'name' | 'keyid'>
  /** Registers or updates a system by name (configuration at start); `keyid` when another system has the key. */
  upsertByName(system: SupervisionSystem): Promise<'saved' | 'keyid'>
}

/** The destination of a system's events in the outbox: named, so that a moved webhook is followed by messages still waiting. */
export function supervisionDestination(systemId: string): string {
  return `supervision:${systemId}`
}

export function systemIdOfDestination(destination: string): string | undefined {
  return destination.startsWith('supervision:') ? destination.slice('supervision:'.length) : undefined
}

/** The actor recorded on a licence's history for a system's actions. */
export function supervisionActor(system: Pick<SupervisionSystem, 'name'>): string {
  return `supervision:${system.name}`
}
