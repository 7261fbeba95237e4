/** A bank's subscription to the status of a licence it checked, as the holder's consent allowed (status-subscription.ts). */
export interface LicenceSubscription {
  id: string
  licenceId: string
  relyingPartyId: string
  consentId: string
  createdAt: Date
}

/** Read inside the transaction of a licence change. */
export interface SubscriptionReads {
  listLicenceSubscriptions(licenceId: string): Promise<LicenceSubscription[]>
}
