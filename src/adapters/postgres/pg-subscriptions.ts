import type { LicenceSubscription, SubscriptionReads } from '../../core/holder/licence-subscription'
import type { SqlClient } from './sql-client'

interface SubscriptionRow {
  id: string
  licence_id: string
  relying_party_id: string
  consent_id: string
  created_at: Date
}

export const toSubscription = (row: SubscriptionRow): LicenceSubscription => ({
  id: row.id,
  licenceId: row.licence_id,
  relyingPartyId: row.relying_party_id,
  consentId: row.consent_id,
  createdAt: new Date(row.created_at),
})

/**
 * The banks subscribed to a licence's status, as a licence change's transaction reads them. A
 * revoked bank is no longer told, nor one whose subscription's consent the holder withdrew:
 * withdrawing a consent ends every disclosure made under it, later status changes included.
 */
export function subscriptionReads(db: SqlClient): SubscriptionReads {
  return {
    async listLicenceSubscriptions(licenceId) {
      const rows = await db.query<SubscriptionRow>(
        `SELECT s.id, s.licence_id, s.relying_party_id, s.consent_id, s.created_at FROM licence_subscriptions s
         JOIN relying_parties r ON r.id = s.relying_party_id
         JOIN consents c ON c.id = s.consent_id
         WHERE s.licence_id = $1 AND r.revoked_at IS NULL AND c.withdrawn_at IS NULL ORDER BY s.created_at, s.id`,
        [licenceId],
      )
      return rows.map(toSubscription)
    },
  }
}
