import { describe, expect, it } from 'vitest'
import { findMatter, formProblems, licenceFieldsFromForm, MATTERS } from '../../../src/core/application/matters'
import { fieldProblems } from '../../../src/core/licence/licence-types'

describe('matters catalogue', () => {
  it('every matter’s form members that share a name with its licence fields have the same constraints, so a valid form gives valid licence fields', () => {
    for (const matter of MATTERS) {
      const licence = matter.licenceType.schema as { properties: Record<string, unknown> }
      const form = matter.form as { properties: Record<string, unknown> }
      for (const name of Object.keys(form.properties)) {
        if (name in licence.properties) expect(form.properties[name], `${matter.code}.${name}`).toMatchObject(Object.fromEntries(Object.entries(licence.properties[name] as object).filter(([k]) => k === 'type')))
      }
    }
  })

  it('reports every problem of a form, pointing under /form', () => {
    const matter = findMatter('public-place-hygiene')!
    const problems = formProblems(matter, { address: '', premisesType: '宾馆', colour: 'red' })
    expect(problems.map((p) => p.pointer).sort()).toEqual(['/form/address', '/form/colour', '/form/legalRepresentative'])
  })

  it('copies the form members that are licence fields', () => {
    const matter = findMatter('public-place-hygiene')!
    const fields = licenceFieldsFromForm(matter, { legalRepresentative: '李四', address: '龙岗大道1号', premisesType: '宾馆', staffCount: 3 })
    expect(fields).toEqual({ legalRepresentative: '李四', address: '龙岗大道1号', premisesType: '宾馆' })
    expect(fieldProblems(matter.licenceType, fields)).toEqual([])
  })
})
