import type { Context } from 'hono'
import { MalformedFormError } from '../../core/errors'

export type FormBody = Record<string, string | File | Array<string | File>>

/**
 * A page form's fields; repeated fields (checkboxes) as arrays. A body that claims to be a form
 * and is not one (a broken multipart body) is the sender's fault: hono's parser throws a plain
 * error for it, which would otherwise be answered as a failure of the service.
 */
export async function readForm(c: Context): Promise<FormBody> {
  try {
    return (await c.req.parseBody({ all: true })) as FormBody
  } catch (error) {
    throw new MalformedFormError(`the form could not be read: ${(error as Error).message}`, { cause: error })
  }
}

/** One text field, trimmed; '' when absent or a file. */
export function text(form: FormBody, name: string): string {
  const value = form[name]
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first.trim() : ''
}

/** Every value of a repeated text field. */
export function texts(form: FormBody, name: string): string[] {
  const value = form[name]
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string' && v.length > 0)
}

export function file(form: FormBody, name: string): File | undefined {
  const value = form[name]
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'object' && first !== null && first.size > 0 ? first : undefined
}
