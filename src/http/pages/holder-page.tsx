import { Hono, type Context } from 'hono'
import { createConsent, withdrawConsent } from '../../core/holder/consent'
import { consentQrText } from '../../core/holder/consent-code'
import type { HolderPrincipal } from '../../core/holder/holder'
import type { RelyingParty } from '../../core/holder/relying-party'
import { TongbanError } from '../../core/errors'
import { effectiveStatus, type Licence } from '../../core/licence/licence'
import { findLicenceType } from '../../core/licence/licence-types'
import { HOLDER_ID_NUMBER_FIELD } from '../../core/verification/disclosure'
import type { AppDeps } from '../deps'
import { CreateConsentSchema, holderConsents, ownLicence } from '../routes/holder'
import { licenceUseView, qrSvg } from '../routes/holder-views'
import { readForm, text, texts } from './form'
import { beijingTime, fieldLabel, licenceTypeName, messages, pageLang, problemText, type Lang } from './i18n'
import { Layout, ProblemNotice } from './layout'
import { checkPagePost, csrfToken, endSession, sessionToken, showOnceAfterRedirect, startSession, takeShownOnce } from './page-security'
import { statusName, verdictWord } from './report-view'

const EXPIRY_CHOICES = [10, 30, 120, 1440, 7 * 1440]

interface Dashboard {
  holder: HolderPrincipal
  licences: Licence[]
  banks: RelyingParty[]
  consents: Awaited<ReturnType<typeof holderConsents>>
  /** As the API shows them, with the licence type's key for naming it in the page's language. */
  uses: Array<ReturnType<typeof licenceUseView> & { typeKey: string }>
  csrf: string
  at: Date
}

function expiryLabel(lang: Lang, minutes: number): string {
  const t = messages(lang)
  if (minutes >= 1440) return `${minutes / 1440} ${t.days}`
  if (minutes >= 60) return `${minutes / 60} ${t.hours}`
  return `${minutes} ${t.minutes}`
}


function SignIn(props: { lang: Lang; problem?: string }) {
  const t = messages(props.lang)
  return (
    <Layout lang={props.lang} title={t.holderTitle} path="/holder">
      {props.problem ? <ProblemNotice lang={props.lang} text={props.problem} /> : null}
      <form method="post" action="/holder/sign-in">
        <p>{t.holderSignInIntro}</p>
        <label for="holder-credential">{t.holderCredential}</label>
        <input id="holder-credential" name="credential" type="password" autocomplete="off" required />
        <button type="submit">{t.holderSignIn}</button>
      </form>
    </Layout>
  )
}

/** The fields a holder can offer: those some registered bank may ask for, of the holder's licence types. */
function offerableFields(lang: Lang, licences: Licence[], banks: RelyingParty[]): Array<{ name: string; label: string }> {
  const seen = new Map<string, string>()
  for (const licence of licences) {
    const type = findLicenceType(licence.typeKey)
    for (const bank of banks) {
      for (const field of bank.mayRequest[licence.typeKey] ?? []) {
        if (field === HOLDER_ID_NUMBER_FIELD && licence.holder.kind !== 'person') continue
        if (!seen.has(field)) seen.set(field, fieldLabel(lang, type, field))
      }
    }
  }
  return [...seen].map(([name, label]) => ({ name, label }))
}

/** A consent just given, shown once: its code, the code as a QR image, and to whom and what for. */
interface Created {
  code: string
  qr: string
  bank: string
}

function HolderDashboard(props: { lang: Lang; data: Dashboard; created?: Created | undefined; problem?: string }) {
  const t = messages(props.lang)
  const { data } = props
  const usable = data.licences.filter((l) => !['revoked', 'superseded'].includes(effectiveStatus(l, data.at)))
  const purposes = [...new Set(data.banks.flatMap((b) => b.purposes))]
  return (
    <Layout lang={props.lang} title={t.holderTitle} path="/holder">
      <p>
        <strong>{data.holder.holder.name}</strong>
        <span class="muted"> {data.holder.holder.kind === 'enterprise' ? data.holder.holder.uscc : ''}</span>
      </p>
      <form method="post" action="/holder/sign-out">
        <input type="hidden" name="csrf" value={data.csrf} />
        <button type="submit" class="secondary">{t.signOut}</button>
      </form>
      {props.problem ? <ProblemNotice lang={props.lang} text={props.problem} /> : null}
      {props.created ? (
        <section aria-labelledby="created-heading" class="notice good" id="consent-created">
          <h2 id="created-heading">{t.consentCreated}</h2>
          <p>{t.consentCodeNote}</p>
          <p class="code" data-testid="consent-code" aria-label={`${t.consentCode} ${props.created.code.split('').join(' ')}`}>
            {props.created.code}
          </p>
          <div class="qr">
            <img src={props.created.qr} alt={`${t.consentCode}：${props.created.code}`} width="280" height="280" />
          </div>
          <p class="muted">{props.created.bank}</p>
        </section>
      ) : null}

      <section aria-labelledby="licences-heading">
        <h2 id="licences-heading">{t.myLicences}</h2>
        {data.licences.length === 0 ? <p>{t.noLicences}</p> : null}
        <table>
          <tbody>
            {data.licences.map((licence) => (
              <tr data-licence={licence.id}>
                <td>
                  {licenceTypeName(props.lang, licence.typeKey)}
                  <br />
                  <span class="muted">{licence.number}</span>
                </td>
                <td>{statusName(props.lang, effectiveStatus(licence, data.at))}</td>
                <td>
                  <a href={`/holder/licences/${licence.id}/pdf`}>{t.downloadPdf}</a>
                  <br />
                  <a href={`/holder/licences/${licence.id}/credential`}>{t.downloadCredential}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {usable.length > 0 && data.banks.length > 0 ? (
        <section aria-labelledby="consent-heading">
          <h2 id="consent-heading">{t.newConsent}</h2>
          <form method="post" action="/holder/consents">
            <input type="hidden" name="csrf" value={data.csrf} />
            <label for="consent-bank">{t.bank}</label>
            <select id="consent-bank" name="relyingParty" required>
              {data.banks.map((bank) => (
                <option value={bank.id}>{`${bank.name} ${bank.branch}`}</option>
              ))}
            </select>
            <fieldset>
              <legend>{t.licence}</legend>
              {usable.map((licence, i) => (
                <label>
                  <input type="checkbox" name="licences" value={licence.id} checked={i === 0} />
                  {`${licenceTypeName(props.lang, licence.typeKey)} ${licence.number.slice(-20)}`}
                </label>
              ))}
            </fieldset>
            <label for="consent-purpose">{t.purpose}</label>
            <select id="consent-purpose" name="purpose">
              {purposes.map((purpose) => (
                <option value={purpose}>{purpose}</option>
              ))}
            </select>
            <fieldset>
              <legend>{t.fieldsToShow}</legend>
              <p class="muted">{t.fieldsNote}</p>
              {offerableFields(props.lang, usable, data.banks).map((field) => (
                <label>
                  <input type="checkbox" name="fields" value={field.name} />
                  {field.label}
                </label>
              ))}
            </fieldset>
            <label for="consent-expiry">{t.expiresIn}</label>
            <select id="consent-expiry" name="expiresInMinutes">
              {EXPIRY_CHOICES.map((minutes) => (
                <option value={String(minutes)} selected={minutes === 30}>
                  {expiryLabel(props.lang, minutes)}
                </option>
              ))}
            </select>
            <label for="consent-uses">{t.uses}</label>
            <input id="consent-uses" name="maxUses" type="number" min="1" max="100" value="1" inputmode="numeric" />
            {data.banks.some((bank) => bank.webhookUrl) ? (
              <label>
                <input type="checkbox" name="statusUpdates" value="yes" />
                {t.statusUpdates}
              </label>
            ) : null}
            <button type="submit">{t.createConsent}</button>
          </form>
        </section>
      ) : null}

      <section aria-labelledby="consents-heading">
        <h2 id="consents-heading">{t.myConsents}</h2>
        {data.consents.length === 0 ? <p>{t.noConsents}</p> : null}
        <table>
          <tbody>
            {data.consents.map((consent) => (
              <tr data-consent={consent.id} data-state={consent.state}>
                <td>
                  {`${consent.relyingParty.name} ${consent.relyingParty.branch}`}
                  <br />
                  <span class="muted">{`${consent.purpose} · ${t.expiresAt} ${beijingTime(consent.expiresAt)} · ${consent.uses}/${consent.maxUses}`}</span>
                </td>
                <td>{t.consentStates[consent.state]}</td>
                <td>
                  {consent.state === 'active' ? (
                    <form method="post" action={`/holder/consents/${consent.id}/withdraw`}>
                      <input type="hidden" name="csrf" value={data.csrf} />
                      <button type="submit" class="secondary" aria-label={`${t.withdraw} ${consent.relyingParty.name} ${consent.relyingParty.branch}`}>
                        {t.withdraw}
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="uses-heading">
        <h2 id="uses-heading">{t.usesLog}</h2>
        {data.uses.length === 0 ? <p>{t.usesEmpty}</p> : null}
        <table>
          <thead>
            <tr>
              <th>{t.usedAt}</th>
              <th>{t.usedBy}</th>
              <th>{t.purpose}</th>
              <th>{t.licence}</th>
              <th>{t.result}</th>
            </tr>
          </thead>
          <tbody>
            {data.uses.map((use) => (
              <tr data-use={String(use.id)} data-indication={use.indication}>
                <td data-label={t.usedAt}>{beijingTime(use.at)}</td>
                <td data-label={t.usedBy}>{`${use.by.kind === 'partner' ? `${t.partner} ` : ''}${use.by.name}${use.by.branch ? ` ${use.by.branch}` : ''}`}</td>
                <td data-label={t.purpose}>{use.purpose ?? ''}</td>
                <td data-label={t.licence}>{licenceTypeName(props.lang, use.typeKey)}</td>
                <td data-label={t.result}>{verdictWord(props.lang, use.indication)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  )
}

/** The holder page: sign in with the holder credential, see licences, give and withdraw consents, see every use. */
export function holderPage(deps: AppDeps) {
  const app = new Hono()
  const secure = deps.publicUrl.startsWith('https:')

  async function session(c: Context): Promise<{ holder: HolderPrincipal; token: string } | undefined> {
    const token = sessionToken(c, 'holder')
    const holder = token ? await deps.holders.authenticator.authenticate(token) : undefined
    return holder && token ? { holder, token } : undefined
  }

  async function dashboard(holder: HolderPrincipal, token: string): Promise<Dashboard> {
    return {
      holder,
      licences: await deps.holders.licencesOf(holder.key),
      banks: (await deps.holders.parties.parties.listRelyingParties()).filter((b) => !b.revokedAt),
      consents: await holderConsents(deps, holder),
      uses: (await deps.licenceUses.listForHolder(holder.key, 50)).map((use) => ({ ...licenceUseView(use), typeKey: use.licenceTypeKey })),
      csrf: await csrfToken(token),
      at: deps.clock.now(),
    }
  }

  app.get('/holder', async (c) => {
    const lang = pageLang(c)
    const signedIn = await session(c)
    const shown = takeShownOnce(c, 'holder', secure)
    if (!signedIn) return c.html(<SignIn lang={lang} />)
    const data = await dashboard(signedIn.holder, signedIn.token)
    return c.html(<HolderDashboard lang={lang} data={data} created={shown ? await createdConsent(data, shown) : undefined} />)
  })

  /** The consent just created, from what its POST left to be shown once (`<id>.<code>`), if it is this holder's and still active. */
  async function createdConsent(data: Dashboard, shown: string): Promise<Created | undefined> {
    const [id, code] = shown.split('.')
    const consent = data.consents.find((one) => one.id === id && one.state === 'active')
    if (!consent || !code) return undefined
    const qr = `data:image/svg+xml;base64,${btoa(await qrSvg(consentQrText(code)))}`
    return { code, qr, bank: `${consent.relyingParty.name} ${consent.relyingParty.branch} · ${consent.purpose}` }
  }

  app.post('/holder/sign-in', async (c) => {
    const lang = pageLang(c)
    const form = await readForm(c)
    await checkPagePost(c, deps.publicUrl, undefined, form)
    const token = text(form, 'credential')
    if (!(await deps.holders.authenticator.authenticate(token))) return c.html(<SignIn lang={lang} problem={problemText(lang, 'unauthorized', '')} />, 401)
    startSession(c, 'holder', token, secure)
    return c.redirect('/holder', 303)
  })

  /** Every other holder page action needs the session and its form token. */
  async function signedInPost(c: Context) {
    const signedIn = await session(c)
    const form = await readForm(c)
    await checkPagePost(c, deps.publicUrl, signedIn?.token ?? '', form)
    return { signedIn, form }
  }

  app.post('/holder/sign-out', async (c) => {
    await signedInPost(c)
    endSession(c, 'holder', secure)
    return c.redirect('/holder', 303)
  })

  app.post('/holder/consents', async (c) => {
    const lang = pageLang(c)
    const { signedIn, form } = await signedInPost(c)
    if (!signedIn) return c.redirect('/holder', 303)
    // The form is read into the API's request and held to the API's schema, so the page can ask for nothing the API would refuse.
    const request = CreateConsentSchema.safeParse({
      relyingParty: text(form, 'relyingParty'),
      licences: texts(form, 'licences'),
      purpose: text(form, 'purpose'),
      fields: texts(form, 'fields'),
      expiresInMinutes: EXPIRY_CHOICES.includes(Number(text(form, 'expiresInMinutes'))) ? Number(text(form, 'expiresInMinutes')) : 30,
      maxUses: Math.min(100, Math.max(1, Math.floor(Number(text(form, 'maxUses')) || 1))),
      statusUpdates: text(form, 'statusUpdates') === 'yes',
    })
    if (!request.success) {
      return c.html(<HolderDashboard lang={lang} data={await dashboard(signedIn.holder, signedIn.token)} problem={messages(lang).consentFormIncomplete} />, 400)
    }
    try {
      const { consent, code } = await createConsent(deps.holders.consents, signedIn.holder, request.data)
      // The code is shown by the page the browser is sent to, so a reload does not give a second consent.
      showOnceAfterRedirect(c, 'holder', `${consent.id}.${code}`, secure)
      return c.redirect('/holder', 303)
    } catch (error) {
      if (!(error instanceof TongbanError) || error.status >= 500) throw error
      return c.html(<HolderDashboard lang={lang} data={await dashboard(signedIn.holder, signedIn.token)} problem={problemText(lang, error.code, error.message)} />, error.status as 400)
    }
  })

  app.post('/holder/consents/:id/withdraw', async (c) => {
    const { signedIn } = await signedInPost(c)
    if (!signedIn) return c.redirect('/holder', 303)
    await withdrawConsent(deps.holders.consents, signedIn.holder, c.req.param('id'))
    return c.redirect('/holder', 303)
  })

  app.get('/holder/licences/:id/:form{pdf|credential}', async (c) => {
    const signedIn = await session(c)
    if (!signedIn) return c.redirect('/holder', 303)
    const licence = await ownLicence(deps, signedIn.holder, c.req.param('id'))
    if (c.req.param('form') === 'credential') {
      return c.body(licence.credential, 200, { 'content-type': 'application/vc+jwt', 'content-disposition': `attachment; filename="${licence.number}.jwt"` })
    }
    const pdf = await deps.licenceDocuments.render(licence)
    return c.body(pdf as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${licence.number}.pdf"` })
  })
  return app
}
