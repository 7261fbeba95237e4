import type { Validator } from '@cfworker/json-schema'
import type { ProblemDetail } from './errors'

const escapePointer = (token: string) => token.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Validates a value against a compiled JSON Schema; returns one detail per problem, pointing under
 * `base` (e.g. `/fields`). A missing or unknown member is pointed at by its own name, which the
 * validator only gives in its message.
 */
export function schemaProblems(validator: Validator, value: unknown, base: string, unknownMember: string): ProblemDetail[] {
  const result = validator.validate(value)
  if (result.valid) return []
  return result.errors
    // The validator reports each failing keyword and then the schema-level summary; keep the leaves.
    .filter((error) => !(error.keyword === 'properties' || error.keyword === 'items' || error.keyword === '$ref' || error.keyword === 'false'))
    .map((error) => {
      const at = `${base}${error.instanceLocation.replace(/^#/, '')}`
      const member = /"(.*)"/.exec(error.error)?.[1]
      if (error.keyword === 'required' && member !== undefined) return { pointer: `${at}/${escapePointer(member)}`, message: 'required' }
      if (error.keyword === 'additionalProperties' && member !== undefined) return { pointer: `${at}/${escapePointer(member)}`, message: unknownMember }
      return { pointer: at, message: error.error }
    })
}
