import type { JwsSigner } from '../ports'
import { CHECKPOINT_TYP, extendsCheckpoint, verifyChain, type AuditEntry, type Checkpoint } from './audit-chain'

/** Where the audit log is kept (PostgreSQL or PGlite: src/adapters/postgres/pg-audit-log.ts). */
export interface AuditLog {
  append(kind: string, detail: Record<string, unknown>, at: Date): Promise<AuditEntry>
  entries(from: number, limit: number): Promise<AuditEntry[]>
  head(): Promise<{ size: number; head: string }>
}

/** The region's signed statement of the log's size and head hash now. */
export async function signCheckpoint(log: AuditLog, signer: JwsSigner, region: string, now: Date): Promise<{ checkpoint: string } & Checkpoint> {
  const { size, head } = await log.head()
  const payload: Checkpoint = { iss: region, size, head, iat: Math.floor(now.getTime() / 1000) }
  return { checkpoint: await signer.sign(payload, { typ: CHECKPOINT_TYP }), ...payload }
}

const PAGE = 1000

export type LogAudit = {
  intact: boolean
  size: number
  head?: string
  brokenAt?: number
  problem?: string
  checkpoint?: { size: number; head: string; extended: boolean; problem?: string }
}

/**
 * Reads the whole log and checks its chain; given a checkpoint signed earlier, also whether the
 * log still holds what it signed (a deleted tail leaves an intact chain that is too short).
 */
export async function auditLog(log: AuditLog, checkpoint?: Pick<Checkpoint, 'size' | 'head'>): Promise<LogAudit> {
  const entries: AuditEntry[] = []
  for (let from = 1; ; from += PAGE) {
    const page = await log.entries(from, PAGE)
    entries.push(...page)
    if (page.length < PAGE) break
  }
  const chain = await verifyChain(entries)
  const verdict: LogAudit = chain.intact ? { intact: true, size: chain.size, head: chain.head } : { intact: false, size: chain.size, brokenAt: chain.brokenAt, problem: chain.problem }
  if (checkpoint) {
    const against = extendsCheckpoint(entries, checkpoint)
    verdict.checkpoint = { size: checkpoint.size, head: checkpoint.head, extended: against.extends, ...(against.extends ? {} : { problem: against.problem }) }
  }
  return verdict
}
