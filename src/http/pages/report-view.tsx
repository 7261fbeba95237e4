import { findLicenceType } from '../../core/licence/licence-types'
import type { PdfVerificationReport, VerificationReport } from '../../core/verification/report'
import { checkQuestion, fieldLabel, licenceTypeName, messages, type Lang } from './i18n'

const STATUS_NAMES: Record<string, { zh: string; en: string }> = {
  active: { zh: '有效', en: 'active' },
  suspended: { zh: '已暂停', en: 'suspended' },
  revoked: { zh: '已注销', en: 'revoked' },
  expired: { zh: '已过期', en: 'expired' },
  superseded: { zh: '已被新版本取代', en: 'superseded' },
  not_yet_valid: { zh: '尚未生效', en: 'not yet valid' },
  unknown: { zh: '未知', en: 'unknown' },
}

export const statusName = (lang: Lang, status: string) => STATUS_NAMES[status]?.[lang] ?? status

const day = (iso: string) => iso.slice(0, 10)

/** An indication in one plain word: valid, not valid, or cannot tell. */
export function verdictWord(lang: Lang, indication: string): string {
  const t = messages(lang)
  return indication === 'TOTAL_PASSED' ? t.verdictPassed : indication === 'TOTAL_FAILED' ? t.verdictFailed : t.verdictIndeterminate
}

/** The verdict in plain words: valid, not valid, or cannot tell, with what that means. */
export function Verdict(props: { lang: Lang; report: Pick<VerificationReport, 'indication' | 'subIndication'> }) {
  const t = messages(props.lang)
  const word = verdictWord(props.lang, props.report.indication)
  const [cls, text] =
    props.report.indication === 'TOTAL_PASSED'
      ? ['passed', t.verdictPassedText]
      : props.report.indication === 'TOTAL_FAILED'
        ? ['failed', t.verdictFailedText]
        : ['indeterminate', t.verdictIndeterminateText]
  return (
    <div role="status" aria-live="polite">
      <p class={`verdict ${cls}`} data-indication={props.report.indication}>
        {word}
        {props.report.subIndication ? <span class="muted"> ({props.report.subIndication})</span> : null}
      </p>
      <p>{text}</p>
    </div>
  )
}

function holderCode(holder: unknown): string {
  const h = holder as { uscc?: string; idNumber?: string } | null
  return h?.uscc ?? h?.idNumber ?? ''
}

/** The licence, who issued and signed it, and each check: what a report says, for people. */
export function ReportDetails(props: { lang: Lang; report: VerificationReport; fieldsHeading?: string; sealImage?: string }) {
  const t = messages(props.lang)
  const { licence, issuer, signer } = props.report
  const type = licence?.type.key ? findLicenceType(licence.type.key) : undefined
  const fields = Object.entries(licence?.fields ?? {})
  return (
    <>
      {licence ? (
        <section aria-labelledby="licence-heading">
          <h2 id="licence-heading">{t.licence}</h2>
          <dl>
            <dt>{t.licenceType}</dt>
            <dd>{licence.type.key ? licenceTypeName(props.lang, licence.type.key, licence.type.name) : licence.type.name}</dd>
            <dt>{t.licenceNumber}</dt>
            <dd>{licence.number}</dd>
            <dt>{t.holder}</dt>
            <dd>{(licence.holder as { name?: string } | null)?.name ?? ''}</dd>
            <dt>{t.holderCode}</dt>
            <dd>{holderCode(licence.holder)}</dd>
            <dt>{t.validity}</dt>
            <dd>{`${day(licence.validFrom)} – ${day(licence.validUntil)}`}</dd>
            <dt>{t.status}</dt>
            <dd data-status={licence.status}>{statusName(props.lang, licence.status)}</dd>
          </dl>
          {props.fieldsHeading ? <h3>{props.fieldsHeading}</h3> : null}
          {fields.length > 0 ? (
            <dl data-testid="licence-fields">
              {fields.map(([name, value]) => (
                <>
                  <dt>{fieldLabel(props.lang, type, name)}</dt>
                  <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
                </>
              ))}
            </dl>
          ) : props.fieldsHeading ? (
            <p class="muted">{t.noneDisclosed}</p>
          ) : null}
        </section>
      ) : null}
      {issuer || signer ? (
        <section aria-labelledby="issuer-heading">
          <h2 id="issuer-heading">{t.issuer}</h2>
          <dl>
            {issuer ? (
              <>
                <dt>{t.issuer}</dt>
                <dd>{`${issuer.name}（${issuer.regionName} ${issuer.regionCode}）`}</dd>
              </>
            ) : null}
            {signer ? (
              <>
                <dt>{t.signer}</dt>
                <dd>{signer.subject}</dd>
              </>
            ) : null}
            {props.sealImage && issuer ? (
              <>
                <dt>{t.seal}</dt>
                <dd>
                  <img class="seal" src={props.sealImage} alt={`${issuer.name}${t.bureauSealName}`} width="120" height="120" />
                </dd>
              </>
            ) : null}
          </dl>
        </section>
      ) : null}
      <Checks lang={props.lang} checks={props.report.checks} />
    </>
  )
}

export function Checks(props: { lang: Lang; checks: VerificationReport['checks']; heading?: string }) {
  const t = messages(props.lang)
  const word = { passed: t.checkPassed, failed: t.checkFailed, skipped: t.checkSkipped }
  return (
    <section aria-label={props.heading ?? t.checks}>
      <h2>{props.heading ?? t.checks}</h2>
      <ul class="checks">
        {props.checks.map((check) => (
          <li data-check={check.name} data-result={check.result}>
            <span class={`result-${check.result}`}>{word[check.result]}</span> {checkQuestion(props.lang, check.name, check.question)}
            <br />
            <span class="muted">{check.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  )
}

/** A PDF's report: the verdict on the file, each signature and seal, and the licence it carries. */
export function PdfReportDetails(props: { lang: Lang; report: PdfVerificationReport }) {
  const t = messages(props.lang)
  return (
    <>
      <section aria-label={t.signatures}>
        <h2>{t.signatures}</h2>
        {props.report.signatures.map((signature) => (
          <div>
            <Verdict lang={props.lang} report={signature} />
            <dl>
              <dt>{t.signer}</dt>
              <dd>{signature.signer?.subject ?? signature.name ?? ''}</dd>
              {signature.seal ? (
                <>
                  <dt>{t.seal}</dt>
                  <dd>{`${signature.seal.name}（${statusName(props.lang, signature.seal.status)}）`}</dd>
                </>
              ) : null}
            </dl>
            <Checks lang={props.lang} checks={signature.checks} heading={`${t.checks} #${signature.index + 1}`} />
          </div>
        ))}
      </section>
      {props.report.embeddedLicence ? <ReportDetails lang={props.lang} report={props.report.embeddedLicence} /> : null}
    </>
  )
}
