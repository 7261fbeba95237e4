import { withUsccCheck } from '../../src/core/licence/uscc'

/** A valid 统一社会信用代码 for the n-th test enterprise (enterprise, company, region 360702). */
export function testUscc(n = 1): string {
  return withUsccCheck(`91360702MA${String(n).padStart(7, '0')}`)
}

export function businessLicenceRequest(overrides: Record<string, unknown> = {}) {
  return {
    type: 'business-licence',
    holder: { kind: 'enterprise', uscc: testUscc(1), name: '赣州通办科技有限公司' },
    fields: {
      entityType: '有限责任公司（自然人投资或控股）',
      legalRepresentative: '张三',
      registeredCapital: '伍佰万元整',
      establishedOn: '2026-01-05',
      address: '江西省赣州市章贡区长征大道1号',
      businessScope: '软件开发；信息技术咨询服务',
    },
    validFrom: '2026-01-05',
    validUntil: '2046-01-04',
    ...overrides,
  }
}
