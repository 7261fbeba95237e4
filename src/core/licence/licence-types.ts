import { Validator } from '@cfworker/json-schema'
import businessLicence from '../../../contracts/licence-types/business-licence.json'
import foodBusinessLicence from '../../../contracts/licence-types/food-business-licence.json'
import industryComprehensiveLicence from '../../../contracts/licence-types/industry-comprehensive-licence.json'
import publicPlaceHygieneLicence from '../../../contracts/licence-types/public-place-hygiene-licence.json'
import type { ProblemDetail } from '../errors'
import { schemaProblems } from '../schema-problems'

/**
 * The licence type catalogue. Each type is a JSON Schema in contracts/licence-types/ whose
 * `x-licence-type` names it; the schema validates a licence's fields, and each property's
 * `title` is the label printed on the certificate (`x-title-en` is its English, for pages shown in English).
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
  fieldLabelsEn: Record<string, string>
}

interface SchemaDocument {
  'x-licence-type': { key: string; code: string; name: string; nameEn: string; authority: string }
  properties: Record<string, { title?: string; 'x-title-en'?: string }>
}

function toLicenceType(document: SchemaDocument): LicenceType {
  const meta = document['x-licence-type']
  const fieldLabels = Object.fromEntries(Object.entries(document.properties).map(([name, p]) => [name, p.title ?? name]))
  const fieldLabelsEn = Object.fromEntries(Object.entries(document.properties).map(([name, p]) => [name, p['x-title-en'] ?? p.title ?? name]))
  return { ...meta, schema: document as unknown as Record<string, unknown>, fieldLabels, fieldLabelsEn }
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

/** Validates fields against the type's schema; one detail per problem, pointing into `fields`. */
export function fieldProblems(type: LicenceType, fields: unknown): ProblemDetail[] {
  return schemaProblems(validators.get(type.key) as Validator, fields, '/fields', `not a field of ${type.name}`)
}
