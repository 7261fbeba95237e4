import type { FetchedLicence } from '../../core/application/collection'
import { describeAnswer, isFinalRefusal } from './partner-answer'
import type { PartnerClient } from './partner-client'

/**
 * Fetches a licence issued for an application accepted here from the region that issued it:
 * its signed PDF and its credential, each by a signed partner call whose answer must be signed
 * too. A final refusal (the partner does not know it, or will not hand it to us) is reported as
 * such; anything that may pass later (no answer, 5xx, rate limited) throws, so the job is retried.
 */
export function partnerLicenceFetcher(client: Pick<PartnerClient, 'call'>) {
  return async (region: string, licenceId: string): Promise<FetchedLicence> => {
    const base = `/v1/partner/licences/${encodeURIComponent(licenceId)}`
    const pdf = await client.call(region, { method: 'GET', path: `${base}/pdf` })
    if (pdf.status !== 200 || !pdf.contentType.startsWith('application/pdf')) return notFetched(`GET ${base}/pdf`, pdf)
    const credential = await client.call(region, { method: 'GET', path: `${base}/credential` })
    const jws = credential.status === 200 && credential.contentType.includes('json') ? credential.json<{ credential?: unknown }>().credential : undefined
    if (typeof jws !== 'string') return notFetched(`GET ${base}/credential`, credential)
    return { kind: 'fetched', pdf: pdf.body, credential: jws }
  }
}

function notFetched(call: string, answer: Parameters<typeof describeAnswer>[1]): FetchedLicence {
  const said = describeAnswer(call, answer)
  if (isFinalRefusal(answer.status)) return { kind: 'refused', why: said }
  throw new Error(answer.status === 200 ? `${call}: the answer is not what was asked for` : said)
}
