import { sha256Hex } from '../digest'
import { canonicalJson } from '../request-hash'

/**
 * The audit log is a hash chain: each entry's hash covers its own content and the hash of the
 * entry before it, so changing or removing any old entry changes every hash after it. A signed
 * checkpoint (size and head hash) pins the chain at a moment: an auditor holding one can tell
 * whether the log it is later shown still extends it, which also catches a cut-off tail.
 */
export const GENESIS_HASH = '0'.repeat(64)
export const CHECKPOINT_TYP = 'tongban-audit-checkpoint+jwt'

export interface AuditEntryContent {
  seq: number
  at: string
  kind: string
  detail: Record<string, unknown>
}

export interface AuditEntry extends AuditEntryContent {
  prevHash: string
  hash: string
}

export interface Checkpoint {
  iss: string
  size: number
  head: string
  iat: number
}

/** What an entry's hash is taken over: the canonical JSON of its content and the previous hash. */
export function entryHashInput(content: AuditEntryContent, prevHash: string): string {
  return canonicalJson({ seq: content.seq, at: content.at, kind: content.kind, detail: content.detail, prev: prevHash })
}

/** The hash of an entry: SHA-256 (lower-case hex) of its entryHashInput. */
export function entryHash(content: AuditEntryContent, prevHash: string): Promise<string> {
  return sha256Hex(entryHashInput(content, prevHash))
}

export type ChainVerdict =
  | { intact: true; size: number; head: string }
  | { intact: false; size: number; brokenAt: number; problem: string }

/**
 * Checks a whole log from its first entry: consecutive sequence numbers from 1, each entry
 * linked to the one before, each hash recomputed. The first entry that fails is named.
 */
export async function verifyChain(entries: AuditEntry[]): Promise<ChainVerdict> {
  let prev = GENESIS_HASH
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as AuditEntry
    const expectedSeq = index + 1
    if (entry.seq !== expectedSeq) return { intact: false, size: entries.length, brokenAt: expectedSeq, problem: `entry ${expectedSeq} is missing (found ${entry.seq} in its place)` }
    if (entry.prevHash !== prev) return { intact: false, size: entries.length, brokenAt: entry.seq, problem: `entry ${entry.seq} does not link to the entry before it` }
    if ((await entryHash(entry, prev)) !== entry.hash) return { intact: false, size: entries.length, brokenAt: entry.seq, problem: `entry ${entry.seq} was changed: its content no longer matches its hash` }
    prev = entry.hash
  }
  return { intact: true, size: entries.length, head: prev }
}

/** Whether an intact chain still contains what a checkpoint signed: the entry at its size must carry its head. */
export function extendsCheckpoint(entries: AuditEntry[], checkpoint: Pick<Checkpoint, 'size' | 'head'>): { extends: true } | { extends: false; problem: string } {
  if (checkpoint.size === 0) return { extends: true }
  if (entries.length < checkpoint.size) return { extends: false, problem: `the log has ${entries.length} entries, fewer than the ${checkpoint.size} the checkpoint signed` }
  const entry = entries[checkpoint.size - 1] as AuditEntry
  return entry.hash === checkpoint.head ? { extends: true } : { extends: false, problem: `entry ${checkpoint.size} is not the one the checkpoint signed` }
}
