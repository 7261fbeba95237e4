import { testUscc } from './fixtures'

export const digest = (n: number) => n.toString(16).padStart(64, 'a')

/** A complete 公共场所卫生许可 application: every required attachment, a valid form. */
export function hygieneApplication(overrides: Record<string, unknown> = {}) {
  return {
    matter: 'public-place-hygiene',
    applicant: { kind: 'enterprise', uscc: testUscc(7), name: '龙岗悦来宾馆有限公司' },
    form: { legalRepresentative: '李四', address: '深圳市龙岗区龙岗大道1号', premisesType: '住宿场所（宾馆）', area: 1200 },
    attachments: [
      { key: 'premises-layout', sha256: digest(1), size: 1024, mediaType: 'application/pdf' },
      { key: 'hygiene-inspection-report', sha256: digest(2), size: 2048, mediaType: 'application/pdf' },
      { key: 'hygiene-management-rules', sha256: digest(3), size: 4096, mediaType: 'application/pdf' },
    ],
    ...overrides,
  }
}
