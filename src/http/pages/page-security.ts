import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { sha256Hex } from '../../core/digest'
import { ForbiddenError } from '../../core/errors'

/**
 * Pages run no inline script and load nothing from elsewhere: scripts and styles only from this
 * origin, images from here or data: (the consent QR code), forms only back to this origin, and
 * the pages cannot be framed (clickjacking a withdraw or a check).
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

export const pageHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  c.header('Content-Security-Policy', PAGE_CSP)
  c.header('Cache-Control', 'no-store')
  c.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()')
}

export type SessionKind = 'holder' | 'bank'
const COOKIE: Record<SessionKind, string> = { holder: 'tb_holder', bank: 'tb_bank' }
const SESSION_SECONDS = 8 * 3600

/**
 * The page session is the holder's or bank's own credential in an HttpOnly, SameSite=Strict
 * cookie scoped to its page: script cannot read it, and no other site's page or form sends it.
 */
export function startSession(c: Context, kind: SessionKind, token: string, secure: boolean): void {
  setCookie(c, COOKIE[kind], token, { path: `/${kind}`, httpOnly: true, sameSite: 'Strict', secure, maxAge: SESSION_SECONDS })
}

export function endSession(c: Context, kind: SessionKind, secure: boolean): void {
  deleteCookie(c, COOKIE[kind], { path: `/${kind}`, secure })
}

export const sessionToken = (c: Context, kind: SessionKind): string | undefined => getCookie(c, COOKIE[kind])

const SHOWN_ONCE_COOKIE = 'tb_once'

/**
 * Post/redirect/get for an answer that may be shown only once (a new consent's code): the POST
 * leaves it in a short-lived HttpOnly cookie of the page's own path and redirects; the GET that
 * follows takes it and clears it. Reloading the page then shows the page again, without posting
 * the form a second time and without the secret.
 */
export function showOnceAfterRedirect(c: Context, kind: SessionKind, value: string, secure: boolean): void {
  setCookie(c, SHOWN_ONCE_COOKIE, value, { path: `/${kind}`, httpOnly: true, sameSite: 'Strict', secure, maxAge: 120 })
}

export function takeShownOnce(c: Context, kind: SessionKind, secure: boolean): string | undefined {
  const value = getCookie(c, SHOWN_ONCE_COOKIE)
  if (value !== undefined) deleteCookie(c, SHOWN_ONCE_COOKIE, { path: `/${kind}`, secure })
  return value
}

/** The form token of a session: derived from its secret, so a page on another site can neither read nor make it. */
export const csrfToken = async (session: string) => (await sha256Hex(`csrf:${session}`)).slice(0, 32)

/**
 * Every page form posts only from this origin. Browsers say where a form came from in
 * Sec-Fetch-Site, which must be same-origin; without it (older browsers) a real Origin must be
 * this one. (Pages are Referrer-Policy: no-referrer, under which Chromium sends `Origin: null`
 * even for its own forms, so Origin alone cannot decide.) A signed-in form must also carry its
 * session's token, and the session cookie is SameSite=Strict besides.
 */
export async function checkPagePost(c: Context, publicUrl: string, session: string | undefined, form: Record<string, unknown>): Promise<void> {
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin') throw new ForbiddenError(`a form from a ${site} page cannot post here`)
  const origin = c.req.header('origin')
  const own = new Set([new URL(publicUrl).origin, new URL(c.req.url).origin])
  if (site === undefined && origin !== undefined && origin !== 'null' && !own.has(origin)) throw new ForbiddenError(`a form from ${origin} cannot post here`)
  if (session !== undefined && form.csrf !== (await csrfToken(session))) throw new ForbiddenError('the form is stale or from elsewhere; reload the page')
}
