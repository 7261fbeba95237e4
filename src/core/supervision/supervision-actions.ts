import { NotFoundError } from '../errors'
import type { Licence } from '../licence/licence'
import { changeLicenceStatus, type LicenceServiceDeps } from '../licence/licence-service'
import { supervisionActor, type SupervisionSystem } from './supervision-system'

export interface SupervisionActionRequest {
  action: 'suspend' | 'revoke'
  /** The licence, by id or by its GB/T 36904 number (the one the events carry). */
  licence: { id: string } | { number: string }
  reason: string
  /** The supervision system's own case or inspection reference, kept with the reason. */
  reference?: string
}

/**
 * A supervision system suspends or revokes a licence (after an inspection, 审管联动): the same
 * state change as the issuer's, recorded on the licence's history with the system as actor and
 * its reason, and announced to every supervision system like any other change.
 */
export async function applySupervisionAction(licences: LicenceServiceDeps, system: SupervisionSystem, request: SupervisionActionRequest): Promise<Licence> {
  const found = 'id' in request.licence ? await licences.store.getLicence(request.licence.id) : await licences.store.findLicenceByNumber(request.licence.number)
  if (!found) throw new NotFoundError('licence_not_found', `no licence ${'id' in request.licence ? request.licence.id : `numbered ${request.licence.number}`} was issued here`)
  const reason = request.reference ? `${request.reason} (${system.name} reference ${request.reference})` : request.reason
  return changeLicenceStatus(licences, found.id, request.action, reason, { id: supervisionActor(system) })
}
