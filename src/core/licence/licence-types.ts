import { Validator } from '@cfworker/json-schema'
import businessLicence from '../../../contracts/licence-types/business-licence.json'
import foodBusinessLicence from '../../../contracts/licence-types/food-business-licence.json'
import industryComprehensiveLicence from '../../../contracts/licence-types/industry-comprehensive-licence.json'
import publicPlaceHygieneLicence from '../../../contracts/licence-types/public-place-hygiene-licence.json'
import type { ProblemDetail } from '../errors'

/**
 * The licence type catalogue. Each type is a JSON Schema in contracts/licence-types/ whose
 * `x-licence-type` names it; the schema validates a licence's fields, and each property's
 * `title` is the label printed on the certificate.
 */
export interface LicenceType {
  key: string
  /** GB/T 36904 type code: the defining authority's credit code plus three digits. */
  code: string
  name: string
  nameEn: string
  authority: string
  schema: Record<string, unknown>
  fieldLabels: Record<string, string>
}

interface SchemaDocument {
  'x-licence-type': { key: string; code: string; name: string; nameEn: string; authority: string }
  properties: Record<string, { title?: string }>
}

function toLicenceType(document: SchemaDocument): LicenceType {
  const meta = document['x-licence-type']
  const fieldLabels = Object.fromEntries(Object.entries(document.properties).map(([name, p]) => [name, p.title ?? name]))
  return { ...meta, schema: document as unknown as Record<string, unknown>, fieldLabels }
}

export const LICENCE_TYPES: readonly LicenceType[] = [
  businessLicence,
  publicPlaceHygieneLicence,
  foodBusinessLicence,
  industryComprehensiveLicence,
].map((document) => toLicenceType(document as unknown as SchemaDocument))

const validators = new Map(LICENCE_TYPES.map((type) => [type.key, new Validator(type.schema as never, '2020-12', false)]))

/** Finds a type by its key (e.g. `business-licence`) or its GB/T 36904 code. */
export function findLicenceType(keyOrCode: string): LicenceType | undefined {
  return LICENCE_TYPES.find((type) => type.key === keyOrCode || type.code === keyOrCode)
}

const escapePointer = (token: string) => token.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Validates fields against the type's schema; returns one detail per problem, pointing into
 * `fields`. A missing or unknown field is pointed at by its own name, which the validator only
 * gives in its message.
 */
export function fieldProblems(type: LicenceType, fields: unknown): ProblemDetail[] {
  const result = (validators.get(type.key) as Validator).validate(fields)
  if (result.valid) return []
  return result.errors
    // The validator reports each failing keyword and then the schema-level summary; keep the leaves.
    .filter((error) => !(error.keyword === 'properties' || error.keyword === 'items' || error.keyword === '$ref' || error.keyword === 'false'))
    .map((error) => {
      const at = `/fields${error.instanceLocation.replace(/^#/, '')}`
      const member = /"(.*)"/.exec(error.error)?.[1]
      if (error.keyword === 'required' && member !== undefined) return { pointer: `${at}/${escapePointer(member)}`, message: 'required' }
      if (error.keyword === 'additionalProperties' && member !== undefined) {
        return { pointer: `${at}/${escapePointer(member)}`, message: `not a field of ${type.name}` }
      }
      return { pointer: at, message: error.error }
    })
}
