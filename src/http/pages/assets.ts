/**
 * The pages' one stylesheet and one script, served from this origin so the CSP can forbid every
 * inline script and style. Phone first: one column, large touch targets, readable at 360 px.
 */
export const SITE_CSS = `
:root { color-scheme: light; --red: #b3261e; --green: #1b6e20; --amber: #8a5a00; --ink: #1c1b1f; --line: #c9c5ca; }
* { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; font: 16px/1.55 system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: var(--ink); background: #faf8f6; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px; z-index: 2; }
header.site { display: flex; justify-content: space-between; align-items: center; padding: 10px 16px; background: var(--red); color: #fff; }
header.site a { color: #fff; }
.brand { font-weight: 600; }
main { max-width: 760px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; } h2 { font-size: 1.2rem; margin: 24px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input[type=text], input[type=password], input[type=number], select, textarea { width: 100%; font: inherit; padding: 10px; border: 1px solid #79747e; border-radius: 6px; background: #fff; }
textarea { min-height: 7em; word-break: break-all; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; } legend { font-weight: 600; }
fieldset label { font-weight: 400; display: flex; gap: 8px; align-items: center; margin: 6px 0; }
button, .button { display: inline-block; font: inherit; min-height: 44px; padding: 10px 18px; margin: 12px 8px 0 0; border-radius: 6px; border: 0; background: var(--red); color: #fff; text-decoration: none; cursor: pointer; }
button.secondary, .button.secondary { background: #fff; color: var(--red); border: 1px solid var(--red); }
:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
dl { display: grid; grid-template-columns: minmax(6em, max-content) 1fr; gap: 4px 12px; margin: 8px 0; } dt { color: #49454f; } dd { margin: 0; word-break: break-all; }
.verdict { font-size: 1.6rem; font-weight: 700; padding: 12px 16px; border-radius: 8px; color: #fff; }
.verdict .muted { color: inherit; font-size: 1rem; font-weight: 400; }
.verdict.passed { background: var(--green); } .verdict.failed { background: var(--red); } .verdict.indeterminate { background: var(--amber); }
.notice { padding: 10px 14px; border-radius: 6px; margin: 12px 0; } .notice.bad { background: #fde7e5; border: 1px solid var(--red); } .notice.good { background: #e3f1e4; border: 1px solid var(--green); }
ul.checks { list-style: none; padding: 0; } ul.checks li { padding: 6px 0; border-bottom: 1px solid #eee; }
.result-passed { color: var(--green); font-weight: 600; } .result-failed { color: var(--red); font-weight: 600; } .result-skipped { color: #6b6b6b; }
.code { font: 700 1.6rem/1.2 ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .08em; white-space: nowrap; text-align: center; margin: 8px 0; }
img.seal { width: 120px; height: auto; mix-blend-mode: multiply; }
.qr { max-width: 280px; margin: 0 auto; } .qr svg { width: 100%; height: auto; display: block; }
table { width: 100%; border-collapse: collapse; } th, td { text-align: left; padding: 6px 4px; border-bottom: 1px solid #eee; vertical-align: top; }
.muted { color: #5f5b63; font-size: .9rem; }
@media (max-width: 480px) { dl { grid-template-columns: 1fr; } dt { margin-top: 6px; } table, thead, tbody, tr, th, td { display: block; } thead { display: none; } td { border: 0; padding: 2px 0; } td[data-label]::before { content: attr(data-label); display: inline-block; min-width: 5.5em; margin-right: 8px; color: #49454f; } tr { border-bottom: 1px solid #eee; padding: 6px 0; } }
`

/**
 * A licence's QR code points at /verify#qr=<payload>: the fragment never reaches a server, so
 * this copies it into the form and submits it, on this page only.
 */
export const VERIFY_JS = `
document.addEventListener('DOMContentLoaded', function () {
  var match = /[#&]qr=([^&]+)/.exec(location.hash)
  var field = document.getElementById('verify-text')
  if (!match || !field) return
  field.value = decodeURIComponent(match[1])
  history.replaceState(null, '', location.pathname + location.search)
  field.form.submit()
})
`
