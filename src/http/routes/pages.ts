import { Hono } from 'hono'
import type { AppDeps } from '../deps'
import { SITE_CSS, VERIFY_JS } from '../pages/assets'
import { bankPage } from '../pages/bank-page'
import { holderPage } from '../pages/holder-page'
import { pageHeaders } from '../pages/page-security'
import { verifyPage } from '../pages/verify-page'

/** The pages people use, server-rendered (hono/jsx), with their one stylesheet and script. */
export function pageRoutes(deps: AppDeps) {
  const app = new Hono()
  app.get('/assets/site.css', (c) => c.body(SITE_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }))
  app.get('/assets/verify.js', (c) => c.body(VERIFY_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' }))
  // Public: the seal every licence of this bureau carries; the teller page shows it beside the issuer.
  app.get('/assets/bureau-seal.svg', async (c) => c.body(await deps.licenceDocuments.bureauSealSvg(), 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=3600' }))
  for (const path of ['/verify', '/holder', '/holder/*', '/bank', '/bank/*']) app.use(path, pageHeaders)
  app.route('/', verifyPage(deps))
  app.route('/', holderPage(deps))
  app.route('/', bankPage(deps))
  return app
}
