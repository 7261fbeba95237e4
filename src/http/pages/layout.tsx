import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import { messages, type Lang } from './i18n'

/** The frame of every page: language, title, a skip link, the language switch, and one stylesheet. */
export function Layout(props: { lang: Lang; title: string; path: string; scripts?: string[]; children?: Child }) {
  const t = messages(props.lang)
  const other = props.lang === 'zh' ? 'en' : 'zh'
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang={props.lang === 'zh' ? 'zh-CN' : 'en'}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t.siteName}`}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skip}
        </a>
        <header class="site">
          <span class="brand">{t.siteName}</span>
          <nav aria-label={props.lang === 'zh' ? '语言' : 'Language'}>
            <a href={`${props.path}?lang=${other}`} lang={other === 'zh' ? 'zh-CN' : 'en'} hreflang={other === 'zh' ? 'zh-CN' : 'en'}>
              {t.switchTo}
            </a>
          </nav>
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
      </html>
    </>
  )
}

/** A problem said on a page: announced to screen readers as it appears. */
export function ProblemNotice(props: { lang: Lang; text: string }) {
  return (
    <div class="notice bad" role="alert">
      <strong>{messages(props.lang).problem}：</strong>
      {props.text}
    </div>
  )
}
