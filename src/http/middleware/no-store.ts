import type { MiddlewareHandler } from 'hono'

/** Answers that carry a holder's personal data or a credential are never kept by caches. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next()
  c.header('Cache-Control', 'no-store')
}
