import {
  acceptableMatters,
  agreementStatus,
  disclosedFields,
  termsProblems,
  type Agreement,
  type AgreementStatus,
  type AgreementTerms,
  type GeneralJws,
} from '../../core/partner/agreement'
import type { PartnerScope } from '../../core/partner/scope'
import { InvalidTransitionError, NotFoundError, TongbanError, ValidationError } from '../../core/errors'
import type { Clock } from '../../core/ports'
import { addSignature, checkSignatures, signaturesByRegion, signTermination, termsOf, verifyTermination, type PartnerAuthKeys, type SignatureCheck } from '../crypto/agreement-jws'
import type { SigningKey } from '../crypto/http-signatures'
import type { AgreementStore } from '../postgres/pg-agreement-store'
import type { PartnerClient } from './partner-client'
import { PartnerNotTrustedError } from './partner-client'

/** Two agreements under one id that say different things, or one id used with two partners. */
export class AgreementConflictError extends TongbanError {
  readonly code: string
  readonly status = 409
  constructor(code: 'agreement_exists' | 'agreement_conflict', message: string) {
    super(message)
    this.code = code
  }
}

export interface AgreementDeps {
  store: AgreementStore
  client: Pick<PartnerClient, 'call'>
  registry: { trusted(code: string): unknown }
  keys: PartnerAuthKeys
  signingKey: SigningKey
  region: { code: string; name: string }
  clock: Clock
  audit(detail: Record<string, unknown>): Promise<void>
  log: { warn(object: object, message?: string): void }
}

export interface AgreementView {
  id: string
  title: string
  partner: { code: string; name: string }
  status: AgreementStatus
  signedBy: string[]
  validFrom: string
  validUntil: string
  termination: { by: string; at: string; reason: string } | null
  delivered: boolean
  deliveryProblem: string | null
  terms: AgreementTerms
  jws: GeneralJws
}

function otherRegion(terms: AgreementTerms, own: string): { code: string; name: string } {
  return terms.regions.find((region) => region.code !== own) as { code: string; name: string }
}

function invalidSignatures(checks: SignatureCheck[]): SignatureCheck[] {
  return checks.filter((check) => !check.valid)
}

/**
 * This region's agreements with its partners: proposed and countersigned through the admin API
 * or out of band (the CLI), exchanged with the partner over the signed partner API, terminated by
 * either side. Held in memory for the partner door's every request and kept in the database;
 * what the partner has not yet received is delivered again until it has.
 */
export function createAgreements(deps: AgreementDeps) {
  const held = new Map<string, Agreement>()
  const deliveryProblems = new Map<string, string>()
  const own = deps.region.code

  const view = (agreement: Agreement): AgreementView => ({
    id: agreement.terms.id,
    title: agreement.terms.title,
    partner: agreement.partner,
    status: agreementStatus(agreement, own, deps.clock.now()),
    signedBy: agreement.signedBy,
    validFrom: agreement.terms.validFrom,
    validUntil: agreement.terms.validUntil,
    termination: agreement.termination ? { by: agreement.termination.by, at: agreement.termination.at, reason: agreement.termination.reason } : null,
    delivered: agreement.delivered,
    deliveryProblem: deliveryProblems.get(agreement.terms.id) ?? null,
    terms: agreement.terms,
    jws: agreement.jws,
  })

  function find(id: string): Agreement {
    const agreement = held.get(id)
    if (!agreement) throw new NotFoundError('agreement_not_found', `no agreement ${id}`)
    return agreement
  }

  async function save(agreement: Agreement, step: string, extra: Record<string, unknown> = {}): Promise<void> {
    await deps.store.save(agreement)
    held.set(agreement.terms.id, agreement)
    await deps.audit({ step, agreement: agreement.terms.id, partner: agreement.partner.code, signedBy: agreement.signedBy, status: agreementStatus(agreement, own, deps.clock.now()), ...extra })
  }

  /** Terms and checked signatures of a signed document; every signature present must verify. */
  async function readSigned(jws: GeneralJws): Promise<{ terms: AgreementTerms; signedBy: string[] }> {
    let terms: AgreementTerms
    try {
      terms = termsOf(jws)
    } catch {
      throw new ValidationError('invalid_agreement', 'the agreement payload is not base64url JSON')
    }
    const problems = termsProblems(terms, own)
    if (problems.length > 0) throw new ValidationError('invalid_agreement', 'the agreement terms are not valid', problems)
    const checks = await checkSignatures(jws, deps.keys)
    const bad = invalidSignatures(checks)
    if (bad.length > 0) throw new ValidationError('agreement_bad_signature', `a signature of the agreement is not valid: ${bad.map((b) => `${b.region ?? '?'}: ${b.problem}`).join('; ')}`)
    const regions = new Set(checks.map((check) => check.region as string))
    const codes = terms.regions.map((region) => region.code)
    if ([...regions].some((region) => !codes.includes(region))) throw new ValidationError('agreement_bad_signature', 'the agreement is signed by a region it does not name')
    if (regions.size !== checks.length) throw new ValidationError('agreement_bad_signature', 'a region signed the agreement twice')
    return { terms, signedBy: codes.filter((code) => regions.has(code)) }
  }

  /** Adds what a signed copy brings to the one held; the terms must be the same bytes under the same id. */
  async function absorb(jws: GeneralJws, source: string): Promise<Agreement> {
    const { terms, signedBy } = await readSigned(jws)
    const partner = otherRegion(terms, own)
    const existing = held.get(terms.id)
    const now = deps.clock.now()
    if (existing) {
      if (existing.partner.code !== partner.code) throw new AgreementConflictError('agreement_exists', `agreement ${terms.id} exists already with ${existing.partner.code}`)
      if (existing.jws.payload !== jws.payload) throw new AgreementConflictError('agreement_conflict', `agreement ${terms.id} is held here with other terms`)
      const regionsAdded = signedBy.filter((region) => !existing.signedBy.includes(region))
      if (regionsAdded.length === 0) return existing
      const bySigner = new Map([...signaturesByRegion(existing.jws), ...signaturesByRegion(jws)].filter(([region]) => existing.signedBy.includes(region) || regionsAdded.includes(region)))
      const order = existing.terms.regions.map((r) => r.code).filter((code) => bySigner.has(code))
      const merged: Agreement = {
        ...existing,
        jws: { payload: existing.jws.payload, signatures: order.map((code) => bySigner.get(code) as GeneralJws['signatures'][number]) },
        signedBy: order,
        delivered: source === 'partner' ? existing.delivered : false,
        updatedAt: now,
      }
      await save(merged, 'signatures_added', { source, added: regionsAdded })
      return merged
    }
    const agreement: Agreement = { terms, partner, jws, signedBy, termination: null, delivered: source === 'partner', createdAt: now, updatedAt: now }
    await save(agreement, source === 'partner' ? 'received' : 'imported', { source })
    return agreement
  }

  /** Sends the partner what this region holds; the partner's signed answer is absorbed in turn. */
  async function deliver(agreement: Agreement): Promise<Agreement> {
    try {
      const answer = agreement.termination
        ? await deps.client.call(agreement.partner.code, { method: 'POST', path: `/v1/partner/agreements/${encodeURIComponent(agreement.terms.id)}/termination`, body: { termination: agreement.termination.jws } })
        : await deps.client.call(agreement.partner.code, { method: 'POST', path: '/v1/partner/agreements', body: { agreement: agreement.jws } })
      if (answer.status !== 200) throw new Error(`${agreement.partner.code} answered ${answer.status}: ${new TextDecoder().decode(answer.body).slice(0, 300)}`)
      let current = held.get(agreement.terms.id) ?? agreement
      if (!agreement.termination) {
        const returned = answer.json<{ agreement?: GeneralJws }>().agreement
        if (returned && !current.termination) current = await absorb(returned, 'partner')
      }
      deliveryProblems.delete(agreement.terms.id)
      const delivered = { ...current, delivered: true, updatedAt: deps.clock.now() }
      await deps.store.save(delivered)
      held.set(delivered.terms.id, delivered)
      return delivered
    } catch (error) {
      const problem = (error as Error).message
      deliveryProblems.set(agreement.terms.id, problem)
      deps.log.warn({ agreement: agreement.terms.id, partner: agreement.partner.code, problem }, 'agreement not delivered to the partner; it is retried')
      return held.get(agreement.terms.id) ?? agreement
    }
  }

  function activeWith(partner: string, at: Date): Agreement | undefined {
    let best: Agreement | undefined
    for (const agreement of held.values()) {
      if (agreement.partner.code !== partner || agreementStatus(agreement, own, at) !== 'active') continue
      if (!best || agreement.terms.validFrom > best.terms.validFrom) best = agreement
    }
    return best
  }

  const scope: PartnerScope = {
    agreementWith(partner, at) {
      const agreement = activeWith(partner, at)
      return agreement ? { id: agreement.terms.id, rateLimit: agreement.terms.rateLimit } : undefined
    },
    verifiableFields(partner, licenceType, at) {
      const agreement = activeWith(partner, at)
      return agreement ? disclosedFields(agreement.terms, own, partner, licenceType) : undefined
    },
  }

  return {
    scope,

    async load(): Promise<void> {
      held.clear()
      for (const agreement of await deps.store.list()) held.set(agreement.terms.id, agreement)
    },

    list: (): AgreementView[] => [...held.values()].map(view),
    get: (id: string): AgreementView => view(find(id)),

    /** The matters each partner lets this region accept, by the agreements in force. */
    partnerMatters(at: Date): Array<{ region: { code: string; name: string }; matterCodes: string[] }> {
      const partners = new Set([...held.values()].map((agreement) => agreement.partner.code))
      return [...partners].flatMap((code) => {
        const agreement = activeWith(code, at)
        return agreement ? [{ region: agreement.partner, matterCodes: acceptableMatters(agreement.terms, code, own) }] : []
      })
    },

    /** The matters this region lets `partner` accept on its behalf, by the agreement in force (none without one). */
    mattersAcceptedBy(partner: string, at: Date): string[] {
      const agreement = activeWith(partner, at)
      return agreement ? acceptableMatters(agreement.terms, own, partner) : []
    },

    /** Proposes terms: this region signs them and sends them to the partner to countersign. */
    async propose(terms: AgreementTerms): Promise<AgreementView> {
      const problems = termsProblems(terms, own)
      if (problems.length > 0) throw new ValidationError('invalid_agreement', 'the agreement terms are not valid', problems)
      if (held.has(terms.id)) throw new AgreementConflictError('agreement_exists', `an agreement ${terms.id} exists already`)
      const partner = otherRegion(terms, own)
      if (!deps.registry.trusted(partner.code)) throw new PartnerNotTrustedError(`${partner.code} is not a registered partner with a current trust list: register it first`)
      const now = deps.clock.now()
      const jws = await addSignature(terms, own, deps.signingKey)
      const agreement: Agreement = { terms: termsOf(jws), partner, jws, signedBy: [own], termination: null, delivered: false, createdAt: now, updatedAt: now }
      await save(agreement, 'proposed')
      return view(await deliver(agreement))
    },

    /** A signed copy brought in out of band (e.g. countersigned with `tongban agreement sign`): absorbed, then delivered. */
    async import(jws: GeneralJws): Promise<AgreementView> {
      const agreement = await absorb(jws, 'admin')
      return view(agreement.delivered ? agreement : await deliver(agreement))
    },

    /** This region countersigns an agreement the partner proposed. */
    async countersign(id: string): Promise<AgreementView> {
      const agreement = find(id)
      const status = agreementStatus(agreement, own, deps.clock.now())
      if (status !== 'awaiting_us') throw new InvalidTransitionError(`agreement ${id} is ${status}: only one awaiting this region's signature can be countersigned`)
      const jws = await addSignature(agreement.jws, own, deps.signingKey)
      const signed: Agreement = { ...agreement, jws, signedBy: agreement.terms.regions.map((r) => r.code), delivered: false, updatedAt: deps.clock.now() }
      await save(signed, 'countersigned')
      return view(await deliver(signed))
    },

    async terminate(id: string, reason: string): Promise<AgreementView> {
      const agreement = find(id)
      if (agreement.termination) throw new InvalidTransitionError(`agreement ${id} was terminated already`)
      const at = deps.clock.now().toISOString()
      const jws = await signTermination({ type: 'tongban-agreement-termination', agreement: id, by: own, at, reason }, deps.signingKey)
      const terminated: Agreement = { ...agreement, termination: { by: own, at, reason, jws }, delivered: false, updatedAt: deps.clock.now() }
      await save(terminated, 'terminated', { reason })
      return view(await deliver(terminated))
    },

    /** `POST /v1/partner/agreements`: the calling partner's copy, which must carry its own valid signature. */
    async receive(caller: string, jws: GeneralJws): Promise<AgreementView> {
      const { terms, signedBy } = await readSigned(jws)
      if (otherRegion(terms, own).code !== caller) throw new ValidationError('invalid_agreement', `the agreement is not between ${caller} and ${own}`)
      if (!signedBy.includes(caller)) throw new ValidationError('agreement_bad_signature', `the agreement does not carry ${caller}'s signature`)
      return view(await absorb(jws, 'partner'))
    },

    /** `POST /v1/partner/agreements/{id}/termination`: the partner's signed termination. */
    async receiveTermination(caller: string, id: string, jws: string): Promise<AgreementView> {
      const agreement = find(id)
      if (agreement.partner.code !== caller) throw new NotFoundError('agreement_not_found', `no agreement ${id} with ${caller}`)
      const statement = await verifyTermination(jws, deps.keys)
      if (!statement || statement.by !== caller || statement.agreement !== id) throw new ValidationError('invalid_termination', `the termination is not signed by ${caller} for agreement ${id}`)
      if (agreement.termination) return view(agreement)
      const terminated: Agreement = { ...agreement, termination: { by: caller, at: statement.at, reason: statement.reason, jws }, delivered: true, updatedAt: deps.clock.now() }
      await save(terminated, 'termination_received', { reason: statement.reason })
      return view(terminated)
    },

    /** Delivers again whatever a partner has not yet acknowledged (run on a schedule). */
    async deliverPending(): Promise<number> {
      let delivered = 0
      for (const agreement of [...held.values()]) {
        if (agreement.delivered) continue
        if ((await deliver(agreement)).delivered) delivered++
      }
      return delivered
    },
  }
}

export type Agreements = ReturnType<typeof createAgreements>
