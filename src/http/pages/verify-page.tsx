import { Hono, type Context } from 'hono'
import { TongbanError } from '../../core/errors'
import { jwsOfQrText, QR_TYP } from '../../core/licence/qr-payload'
import type { PdfVerificationReport, VerificationReport } from '../../core/verification/report'
import { verifyCredential } from '../../core/verification/verify-credential'
import { verifyPdf } from '../../core/verification/verify-pdf'
import type { AppDeps } from '../deps'
import { file, readForm, text } from './form'
import { messages, pageLang, problemText, type Lang } from './i18n'
import { Layout, ProblemNotice } from './layout'
import { checkPagePost } from './page-security'
import { PdfReportDetails, ReportDetails, Verdict } from './report-view'

const MAX_TEXT = 65536

function VerifyPage(props: { lang: Lang; text?: string; report?: VerificationReport | PdfVerificationReport; problem?: string }) {
  const t = messages(props.lang)
  return (
    <Layout lang={props.lang} title={t.verifyTitle} path="/verify" scripts={['/assets/verify.js']}>
      <p>{t.verifyIntro}</p>
      <form method="post" action="/verify" enctype="multipart/form-data">
        <label for="verify-text">{t.verifyText}</label>
        <textarea id="verify-text" name="text" spellcheck={false} autocomplete="off">
          {props.text ?? ''}
        </textarea>
        <label for="verify-pdf">{t.verifyPdf}</label>
        <input id="verify-pdf" name="pdf" type="file" accept="application/pdf,.pdf" />
        <button type="submit">{t.verifySubmit}</button>
      </form>
      {props.problem ? <ProblemNotice lang={props.lang} text={props.problem} /> : null}
      {props.report ? (
        <section aria-label={t.checkResult} id="report">
          <Verdict lang={props.lang} report={props.report} />
          {'signatures' in props.report ? <PdfReportDetails lang={props.lang} report={props.report} /> : <ReportDetails lang={props.lang} report={props.report} />}
        </section>
      ) : null}
    </Layout>
  )
}

/** A licence's QR payload and its credential are both compact JWS; the header's typ says which. */
function formatOf(jws: string): 'jws' | 'qr' {
  try {
    const header = JSON.parse(atob((jws.split('.')[0] ?? '').replaceAll('-', '+').replaceAll('_', '/'))) as { typ?: unknown }
    return header.typ === QR_TYP ? 'qr' : 'jws'
  } catch {
    return 'jws'
  }
}

/** The public verify page: paste a credential or QR text, or upload a PDF, and read the report in plain words. */
export function verifyPage(deps: AppDeps) {
  const app = new Hono()
  app.get('/verify', (c) => c.html(<VerifyPage lang={pageLang(c)} />))

  app.post('/verify', async (c: Context) => {
    const lang = pageLang(c)
    const form = await readForm(c)
    await checkPagePost(c, deps.publicUrl, undefined, form)
    const at = deps.clock.now()
    const pdf = file(form, 'pdf')
    const pasted = text(form, 'text')
    try {
      if (pdf) {
        const bytes = new Uint8Array(await pdf.arrayBuffer())
        if (!new TextDecoder().decode(bytes.subarray(0, 1024)).includes('%PDF-')) return c.html(<VerifyPage lang={lang} problem={problemText(lang, 'not_a_pdf', '')} />, 400)
        return c.html(<VerifyPage lang={lang} report={await verifyPdf(deps.pdfVerifier, bytes, { at })} />)
      }
      if (!pasted || pasted.length > MAX_TEXT) return c.html(<VerifyPage lang={lang} text={pasted.slice(0, MAX_TEXT)} problem={messages(lang).noReport} />, 400)
      const jws = jwsOfQrText(pasted)
      return c.html(<VerifyPage lang={lang} text={pasted} report={await verifyCredential(deps.verifier, jws, { at, format: formatOf(jws) })} />)
    } catch (error) {
      if (!(error instanceof TongbanError) || error.status >= 500) throw error
      return c.html(<VerifyPage lang={lang} text={pasted} problem={problemText(lang, error.code, error.message)} />, error.status as 400)
    }
  })
  return app
}
