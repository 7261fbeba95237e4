import { NotFoundError } from '../errors'
import type { Licence } from '../licence/licence'
import type { Store } from '../ports'

/**
 * 异地领证, at the handling region: a partner may fetch a licence issued here only when it was
 * issued for an application that partner accepted at its window. Any other licence is as
 * unknown to it as one that does not exist; partners check other licences through
 * `POST /v1/partner/verify`, which discloses only what the agreement allows.
 */
export async function licenceForPickup(store: Store, caller: string, licenceId: string): Promise<Licence> {
  const [licence, application] = await Promise.all([store.getLicence(licenceId), store.findApplicationByLicence(licenceId)])
  if (!licence || application?.acceptingRegion.code !== caller) {
    throw new NotFoundError('licence_not_found', `no licence ${licenceId} was issued here for an application ${caller} accepted`)
  }
  return licence
}
