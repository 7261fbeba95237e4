import { TongbanError, ValidationError } from '../errors'
import type { AttachmentReads, HeldAttachment } from '../ports'
import type { AttachmentRef } from './application'

/**
 * An application names its documents by digest; these say whether the documents it names are
 * the ones held here. A reference is held only when a document with its digest is held with
 * the same size and media type: a reference that disagrees with the bytes is not theirs.
 */
const matches = (ref: AttachmentRef, held: HeldAttachment | undefined) => held !== undefined && held.size === ref.size && held.mediaType === ref.mediaType

async function heldBySha(read: AttachmentReads, attachments: readonly AttachmentRef[]): Promise<Map<string, HeldAttachment>> {
  return new Map((await read.heldAttachments(attachments.map((a) => a.sha256))).map((held) => [held.sha256, held]))
}

/**
 * At the window: every attachment must name a document uploaded here (POST /v1/attachments),
 * as it was uploaded. One problem per attachment, pointing at it under `base`.
 */
export async function heldProblems(read: AttachmentReads, attachments: readonly AttachmentRef[], base: string): Promise<TongbanError[]> {
  const held = await heldBySha(read, attachments)
  const problems: TongbanError[] = []
  attachments.forEach((ref, i) => {
    const document = held.get(ref.sha256)
    if (!document) {
      problems.push(new ValidationError('attachment_not_held', `no document ${ref.sha256} (${ref.key}) is held here; upload it with POST /v1/attachments first`, [{ pointer: `${base}/${i}/sha256`, message: 'no document with this digest is held here' }]))
    } else if (!matches(ref, document)) {
      problems.push(
        new ValidationError('attachment_mismatch', `the document ${ref.sha256} (${ref.key}) is held as ${document.mediaType} of ${document.size} bytes, not ${ref.mediaType} of ${ref.size}`, [
          { pointer: `${base}/${i}`, message: `held as ${document.mediaType}, ${document.size} bytes` },
        ]),
      )
    }
  })
  return problems
}

/** Each attachment with whether its document is held here, as GET /v1/applications/{id} shows it. */
export async function withHolding(read: AttachmentReads, attachments: readonly AttachmentRef[]): Promise<Array<AttachmentRef & { held: boolean }>> {
  const held = await heldBySha(read, attachments)
  return attachments.map((ref) => ({ ...ref, held: matches(ref, held.get(ref.sha256)) }))
}

/** The attachments whose documents are not held here (yet). */
export async function notHeld(read: AttachmentReads, attachments: readonly AttachmentRef[]): Promise<AttachmentRef[]> {
  const held = await heldBySha(read, attachments)
  return attachments.filter((ref) => !matches(ref, held.get(ref.sha256)))
}

/** An approval while documents the application names are not held here: they are still being fetched, or could not be. */
export class AttachmentsNotHeldError extends TongbanError {
  readonly code = 'attachments_not_held'
  readonly status = 409
}

/** Nothing is approved on documents this region has not got and checked: 409 naming each one missing. */
export async function requireAllHeld(read: AttachmentReads, attachments: readonly AttachmentRef[]): Promise<void> {
  const missing = await notHeld(read, attachments)
  if (missing.length === 0) return
  throw new AttachmentsNotHeldError(`the documents ${missing.map((a) => `${a.key} (${a.sha256})`).join(', ')} are not held here yet; see the application's messages`, {
    details: missing.map((a) => ({ message: `${a.key} ${a.sha256} is not held here` })),
  })
}
