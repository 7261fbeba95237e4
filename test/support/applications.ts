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

/** A complete 企业设立登记 application accepted for 龙岗 (440307): the matter the sample agreement lets 赣州 accept for it. */
export function establishmentForLonggang(overrides: Record<string, unknown> = {}) {
  return {
    matter: 'enterprise-establishment',
    applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
    form: { enterpriseName: '深圳龙岗通办科技有限公司', entityType: '有限责任公司', legalRepresentative: '王五', registeredCapital: '壹佰万元整', address: '深圳市龙岗区龙城街道1号', businessScope: '软件开发' },
    attachments: ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key, i) => ({ key, sha256: digest(10 + i), size: 100 + i, mediaType: 'application/pdf', url: `http://gz.test/attachments/${digest(10 + i)}` })),
    handlingRegion: '440307',
    ...overrides,
  }
}
