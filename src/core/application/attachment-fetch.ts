import { sha256Hex } from '../digest'
import type { OutboxMessage, SendOutcome } from '../outbox/outbox'
import type { AttachmentStore, Clock, StoreTransaction } from '../ports'
import type { AttachmentRef } from './application'
import { attachmentProblem } from './attachments'
import { notHeld } from './attachment-holding'

/**
 * 远程办理, at the handling region: the documents a forwarded application names stay with the
 * region that accepted it, and are fetched from it by digest through the signed partner API
 * (never from a URL a request names). Each is checked against its reference before it is held.
 */
export const ATTACHMENT_FETCH_TOPIC = 'application.attachment-fetch'
/** Fetch jobs go through the outbox under this scheme, retried like any message until they succeed or fail for good. */
export const ATTACHMENT_FETCH_SCHEME = 'attachment'

interface AttachmentFetchJob {
  applicationId: string
  /** The region the document is fetched from: the one that accepted the application. */
  region: string
  attachment: AttachmentRef
}

/**
 * Inside the transaction that stores the forward or takes the supplement: one job per document
 * not held here yet, so the jobs exist exactly when the application's new references do. Their
 * subject is the application, whose messages show how each fetch stands.
 */
export async function enqueueAttachmentFetches(tx: StoreTransaction, newId: () => string, applicationId: string, region: string, attachments: readonly AttachmentRef[]): Promise<void> {
  const wanted = new Map((await notHeld(tx, attachments)).map((ref) => [ref.sha256, ref]))
  for (const attachment of wanted.values()) {
    const job: AttachmentFetchJob = { applicationId, region, attachment }
    await tx.enqueueMessage({ id: newId(), topic: ATTACHMENT_FETCH_TOPIC, destination: `${ATTACHMENT_FETCH_SCHEME}:${attachment.sha256}`, headers: {}, body: JSON.stringify(job), subject: applicationId })
  }
}

/** What the accepting region answered for a digest: the document as it served it, or its refusal. */
export type FetchedAttachment = { kind: 'fetched'; mediaType: string; content: Uint8Array } | { kind: 'refused'; why: string }

export interface AttachmentFetchDeps {
  store: AttachmentStore
  clock: Clock
  /** Fetches a document from a partner by digest (signed partner call); throws when it cannot be reached. */
  fetchAttachment(region: string, sha256: string): Promise<FetchedAttachment>
}

/** Why the fetched document is not the one the reference names, or undefined when it is. */
async function mismatch(ref: AttachmentRef, fetched: { mediaType: string; content: Uint8Array }): Promise<string | undefined> {
  const sha256 = await sha256Hex(fetched.content)
  if (sha256 !== ref.sha256) return `its SHA-256 is ${sha256}, not ${ref.sha256}`
  if (fetched.content.length !== ref.size) return `it has ${fetched.content.length} bytes, not ${ref.size}`
  if (fetched.mediaType !== ref.mediaType) return `it was served as ${fetched.mediaType || 'no type'}, not ${ref.mediaType}`
  return attachmentProblem(ref.mediaType, fetched.content)?.message
}

/**
 * One attempt of a fetch job, as the outbox's sender for `attachment:` destinations. A partner
 * that cannot be reached now is tried again with the outbox's backoff; its refusal, or a
 * document that is not the one referenced, ends the job with the reason, and nothing is held.
 */
export async function fetchAttachment(deps: AttachmentFetchDeps, message: OutboxMessage): Promise<SendOutcome> {
  const { applicationId, region, attachment } = JSON.parse(message.body) as AttachmentFetchJob
  const what = `${attachment.key} (${attachment.sha256}) of application ${applicationId}`
  // Another application's job may have brought the same document meanwhile.
  if ((await notHeld(deps.store, [attachment])).length === 0) return { outcome: 'delivered' }
  let fetched: FetchedAttachment
  try {
    fetched = await deps.fetchAttachment(region, attachment.sha256)
  } catch (error) {
    return { outcome: 'retry', error: `${what} could not be fetched from ${region}: ${error instanceof Error ? error.message : String(error)}` }
  }
  if (fetched.kind === 'refused') return { outcome: 'abandon', error: `${region} refused to hand over ${what}: ${fetched.why}` }
  const wrong = await mismatch(attachment, fetched)
  if (wrong) return { outcome: 'abandon', error: `${region} answered for ${what} with another document: ${wrong}; nothing was kept` }
  await deps.store.storeAttachment({ sha256: attachment.sha256, mediaType: attachment.mediaType, size: attachment.size, createdAt: deps.clock.now() }, fetched.content)
  return { outcome: 'delivered' }
}
