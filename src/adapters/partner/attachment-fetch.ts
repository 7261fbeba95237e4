import type { FetchedAttachment } from '../../core/application/attachment-fetch'
import { describeAnswer, isFinalRefusal } from './partner-answer'
import type { PartnerClient } from './partner-client'

/**
 * Fetches a document by digest from the region that accepted the application, by a signed
 * partner call whose answer must be signed too. What it serves is reported as served (media
 * type and bytes) for the job to check against the reference; a final refusal is reported as
 * such; anything that may pass later (no answer, 5xx, rate limited) throws, so the job is retried.
 */
export function partnerAttachmentFetcher(client: Pick<PartnerClient, 'call'>) {
  return async (region: string, sha256: string): Promise<FetchedAttachment> => {
    const call = `GET /v1/partner/attachments/${sha256}`
    const answer = await client.call(region, { method: 'GET', path: `/v1/partner/attachments/${encodeURIComponent(sha256)}` })
    if (answer.status === 200) return { kind: 'fetched', mediaType: answer.contentType.split(';')[0]?.trim().toLowerCase() ?? '', content: answer.body }
    const said = describeAnswer(call, answer)
    if (isFinalRefusal(answer.status)) return { kind: 'refused', why: said }
    throw new Error(said)
  }
}
