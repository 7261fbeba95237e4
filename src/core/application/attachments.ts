import { sha256Hex } from '../digest'
import { NotFoundError, TongbanError, UnsupportedMediaTypeError, ValidationError } from '../errors'
import type { AttachmentStore, Clock, HeldAttachment } from '../ports'

/**
 * The documents applications name by SHA-256, as this region holds them: uploaded at its
 * window, or fetched from the region that accepted a forwarded application (attachment-fetch.ts).
 * Only the types a window scans paper into are taken, and each must be what it says it is, so
 * whatever is held here passed the same checks whichever way it came.
 */
export const ATTACHMENT_MEDIA_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const
export type AttachmentMediaType = (typeof ATTACHMENT_MEDIA_TYPES)[number]

/**
 * As large as the API lets any request body be (src/http/app.ts). Checked here too, so the limit
 * holds for documents whichever way they come, not only while the two numbers agree.
 */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

/** How each type's files begin (PDF 1.7 §7.5.2, PNG §5.2, JPEG's SOI marker and the next marker's FF). */
const MAGIC: Record<AttachmentMediaType, { bytes: readonly number[]; shown: string }> = {
  'application/pdf': { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], shown: '%PDF-' },
  'image/png': { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], shown: 'the PNG signature' },
  'image/jpeg': { bytes: [0xff, 0xd8, 0xff], shown: 'FF D8 FF' },
}

export const isAttachmentMediaType = (value: string): value is AttachmentMediaType => (ATTACHMENT_MEDIA_TYPES as readonly string[]).includes(value)

/** A document over MAX_ATTACHMENT_BYTES; the same problem as a request body over the API's limit. */
export class AttachmentTooLargeError extends TongbanError {
  readonly code = 'body_too_large'
  readonly status = 413
}

/** What is wrong with `content` as a document of `mediaType`, or undefined when nothing is. */
export function attachmentProblem(mediaType: string, content: Uint8Array): TongbanError | undefined {
  if (!isAttachmentMediaType(mediaType)) return new UnsupportedMediaTypeError(`documents are taken as ${ATTACHMENT_MEDIA_TYPES.join(', ')}; not ${mediaType || 'without a type'}`)
  if (content.length === 0) return new ValidationError('attachment_empty', 'the document is empty')
  if (content.length > MAX_ATTACHMENT_BYTES) return new AttachmentTooLargeError(`documents are limited to ${MAX_ATTACHMENT_BYTES} bytes; this one has ${content.length}`)
  const magic = MAGIC[mediaType]
  if (!magic.bytes.every((byte, i) => content[i] === byte)) {
    return new ValidationError('attachment_not_matching_type', `the document is sent as ${mediaType} but does not begin with ${magic.shown}`)
  }
  return undefined
}

export type HoldResult = { attachment: HeldAttachment; created: boolean }

/**
 * Window staff upload a document an application will name. It is held under its SHA-256, so a
 * second upload of the same bytes finds it held and changes nothing.
 */
export async function holdAttachment(deps: { store: AttachmentStore; clock: Clock }, mediaType: string, content: Uint8Array): Promise<HoldResult> {
  const problem = attachmentProblem(mediaType, content)
  if (problem) throw problem
  const attachment: HeldAttachment = { sha256: await sha256Hex(content), mediaType, size: content.length, createdAt: deps.clock.now() }
  const created = await deps.store.storeAttachment(attachment, content)
  return { attachment, created }
}

export async function attachmentContent(store: AttachmentStore, sha256: string): Promise<{ attachment: HeldAttachment; content: Uint8Array }> {
  const found = await store.attachmentContent(sha256)
  if (!found) throw new NotFoundError('attachment_not_found', `no document ${sha256} is held here`)
  return found
}

/**
 * `GET /v1/partner/attachments/{sha256}`, at the accepting region: the handling region fetches
 * a document an application accepted here names, and only one offered to it. Any other digest,
 * held here or not, is as unknown to it as one that does not exist.
 */
export async function attachmentForPartner(store: AttachmentStore, caller: string, sha256: string): Promise<{ attachment: HeldAttachment; content: Uint8Array }> {
  const found = await store.attachmentOfferedTo(caller, sha256)
  if (!found) throw new NotFoundError('attachment_not_found', `no document ${sha256} was offered to ${caller} with an application accepted here`)
  return found
}
