import { Hono, type Context } from 'hono'
import { checkConsentCode, TooManyAttemptsError, type BankCheckResult } from '../../core/holder/bank-check'
import { normaliseConsentCode } from '../../core/holder/consent-code'
import { relyingPartyOf, type RelyingParty } from '../../core/holder/relying-party'
import { TongbanError } from '../../core/errors'
import type { AppDeps } from '../deps'
import { readForm, text } from './form'
import { beijingTime, messages, pageLang, problemText, type Lang } from './i18n'
import { Layout, ProblemNotice } from './layout'
import { checkPagePost, csrfToken, endSession, sessionToken, startSession } from './page-security'
import { ReportDetails, Verdict } from './report-view'

function SignIn(props: { lang: Lang; problem?: string }) {
  const t = messages(props.lang)
  return (
    <Layout lang={props.lang} title={t.bankTitle} path="/bank">
      {props.problem ? <ProblemNotice lang={props.lang} text={props.problem} /> : null}
      <form method="post" action="/bank/sign-in">
        <h2>{t.bankSignIn}</h2>
        <p>{t.bankSignInIntro}</p>
        <label for="bank-credential">{t.bankCredential}</label>
        <input id="bank-credential" name="credential" type="password" autocomplete="off" required />
        <button type="submit">{t.holderSignIn}</button>
      </form>
    </Layout>
  )
}

function Teller(props: { lang: Lang; bank: RelyingParty; regionCode: string; csrf: string; result?: BankCheckResult; problem?: string }) {
  const t = messages(props.lang)
  const { result } = props
  return (
    <Layout lang={props.lang} title={t.bankTitle} path="/bank">
      <p>
        <strong>{`${props.bank.name} ${props.bank.branch}`}</strong>
      </p>
      <form method="post" action="/bank/sign-out">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" class="secondary">{t.signOut}</button>
      </form>
      <form method="post" action="/bank/check">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="bank-code">{t.bankCode}</label>
        <input id="bank-code" name="code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} required aria-describedby="bank-code-hint" autofocus />
        <p id="bank-code-hint" class="muted">{t.bankCodeHint}</p>
        <button type="submit">{t.check}</button>
      </form>
      {props.problem ? <ProblemNotice lang={props.lang} text={props.problem} /> : null}
      {result ? (
        <section aria-labelledby="result-heading" id="check-result">
          <h2 id="result-heading">{t.checkResult}</h2>
          <dl>
            <dt>{t.consentFor}</dt>
            <dd>{`${result.consent.purpose} · ${beijingTime(result.checkedAt)} · ${result.consent.uses}/${result.consent.maxUses}`}</dd>
          </dl>
          {result.reports.map((report) => (
            <div class="report">
              <Verdict lang={props.lang} report={report} />
              <ReportDetails lang={props.lang} report={report} fieldsHeading={t.disclosedFields} sealImage={report.issuer?.regionCode === props.regionCode ? '/assets/bureau-seal.svg' : undefined} />
            </div>
          ))}
        </section>
      ) : null}
    </Layout>
  )
}

/** The teller page: a bank branch signs in with its credential, types or scans a consent code, and sees what the holder consented to. */
export function bankPage(deps: AppDeps) {
  const app = new Hono()
  const secure = deps.publicUrl.startsWith('https:')

  async function session(c: Context): Promise<{ bank: RelyingParty; token: string } | undefined> {
    const token = sessionToken(c, 'bank')
    const bank = token ? await relyingPartyOf(deps.holders.parties.parties, token) : undefined
    return bank && token ? { bank, token } : undefined
  }

  app.get('/bank', async (c) => {
    const lang = pageLang(c)
    const signedIn = await session(c)
    if (!signedIn) return c.html(<SignIn lang={lang} />)
    return c.html(<Teller lang={lang} bank={signedIn.bank} regionCode={deps.region.code} csrf={await csrfToken(signedIn.token)} />)
  })

  app.post('/bank/sign-in', async (c) => {
    const lang = pageLang(c)
    const form = await readForm(c)
    await checkPagePost(c, deps.publicUrl, undefined, form)
    const token = text(form, 'credential')
    if (!(await relyingPartyOf(deps.holders.parties.parties, token))) return c.html(<SignIn lang={lang} problem={problemText(lang, 'unauthorized', '')} />, 401)
    startSession(c, 'bank', token, secure)
    return c.redirect('/bank', 303)
  })

  app.post('/bank/sign-out', async (c) => {
    const signedIn = await session(c)
    await checkPagePost(c, deps.publicUrl, signedIn?.token ?? '', await readForm(c))
    endSession(c, 'bank', secure)
    return c.redirect('/bank', 303)
  })

  app.post('/bank/check', async (c) => {
    const lang = pageLang(c)
    const signedIn = await session(c)
    const form = await readForm(c)
    await checkPagePost(c, deps.publicUrl, signedIn?.token ?? '', form)
    if (!signedIn) return c.redirect('/bank', 303)
    const csrf = await csrfToken(signedIn.token)
    const code = text(form, 'code').slice(0, 200)
    // An empty field is a slip at the counter, not a guess: it is not counted against the branch.
    if (normaliseConsentCode(code) === '') return c.html(<Teller lang={lang} bank={signedIn.bank} regionCode={deps.region.code} csrf={csrf} problem={messages(lang).enterCode} />, 400)
    try {
      const result = await checkConsentCode(deps.holders.checks, signedIn.bank, code)
      return c.html(<Teller lang={lang} bank={signedIn.bank} regionCode={deps.region.code} csrf={csrf} result={result} />)
    } catch (error) {
      if (!(error instanceof TongbanError) || error.status >= 500) throw error
      // The teller's browser is told when the branch may try again, as the API tells a bank's system.
      if (error instanceof TooManyAttemptsError) c.header('Retry-After', String(error.retryAfterS))
      return c.html(<Teller lang={lang} bank={signedIn.bank} regionCode={deps.region.code} csrf={csrf} problem={problemText(lang, error.code, error.message)} />, error.status as 400)
    }
  })
  return app
}
