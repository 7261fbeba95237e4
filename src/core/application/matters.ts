import { Validator } from '@cfworker/json-schema'
import enterpriseEstablishment from '../../../contracts/matters/enterprise-establishment.json'
import foodBusiness from '../../../contracts/matters/food-business.json'
import publicPlaceHygiene from '../../../contracts/matters/public-place-hygiene.json'
import type { ProblemDetail } from '../errors'
import { findLicenceType, type LicenceType } from '../licence/licence-types'
import { schemaProblems } from '../schema-problems'

/**
 * The matters (事项) catalogue, one JSON file per matter in contracts/matters/. The catalogue names
 * no region: each deployment owns its entries for its own region, and learns which entries it may
 * accept for a partner from the agreement with that partner (contracts/matters/README.md).
 */
export interface MatterAttachment {
  key: string
  name: string
  required: boolean
}

export interface Matter {
  code: string
  name: string
  nameEn: string
  department: string
  licenceType: LicenceType
  attachments: MatterAttachment[]
  form: Record<string, unknown>
}

interface MatterDocument {
  code: string
  name: string
  nameEn: string
  department: string
  licenceType: string
  attachments: MatterAttachment[]
  form: Record<string, unknown>
}

function toMatter(document: MatterDocument): Matter {
  const licenceType = findLicenceType(document.licenceType)
  // A catalogue entry naming a licence type that does not exist is a build mistake, caught at load.
  if (!licenceType) throw new Error(`matter ${document.code} names unknown licence type ${document.licenceType}`)
  return { ...document, licenceType }
}

export const MATTERS: readonly Matter[] = [enterpriseEstablishment, publicPlaceHygiene, foodBusiness].map((document) => toMatter(document as MatterDocument))

const validators = new Map(MATTERS.map((matter) => [matter.code, new Validator(matter.form as never, '2020-12', false)]))

export function findMatter(code: string): Matter | undefined {
  return MATTERS.find((matter) => matter.code === code)
}

/** Checks an application's form against the matter's schema; one detail per problem under `/form`. */
export function formProblems(matter: Matter, form: unknown): ProblemDetail[] {
  return schemaProblems(validators.get(matter.code) as Validator, form, '/form', `not a member of the ${matter.name} form`)
}

/** The form members that are also fields of the licence the matter issues: what approval copies into the licence. */
export function licenceFieldsFromForm(matter: Matter, form: Record<string, unknown>): Record<string, unknown> {
  const fields = Object.keys(matter.licenceType.fieldLabels)
  return Object.fromEntries(Object.entries(form).filter(([name]) => fields.includes(name)))
}
