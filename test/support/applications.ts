import { createHash } from 'node:crypto'
import type { TestApp } from './app'
import { testUscc } from './fixtures'
import type { RegionProcess } from './region-process'

/** A digest no test document has: for attachments naming a document nobody holds. */
export const digest = (n: number) => n.toString(16).padStart(64, 'a')

/** The bytes of every test document named so far, by SHA-256, so its upload can be made from its reference. */
const documents = new Map<string, Uint8Array>()

/** A small deterministic PDF, distinct per name. */
export function testPdf(name: string): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n% tongban test document: ${name}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`)
}

/** An attachment that names the test PDF `name` by its true digest, size and type. */
export function attachment(key: string, name: string = key) {
  const bytes = testPdf(name)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  documents.set(sha256, bytes)
  return { key, sha256, size: bytes.length, mediaType: 'application/pdf' }
}

/**
 * Uploads the documents these attachments name to a region's window (POST /v1/attachments), as
 * staff do before they register an application: to a test app, or to a region process; `as`
 * uploads them elsewhere with another credential (a bank branch: POST /v1/bank/attachments).
 */
export async function uploadAttachments(region: TestApp | RegionProcess, attachments: ReadonlyArray<{ sha256: string }>, as: { path: string; token: string } = { path: '/v1/attachments', token: '' }): Promise<void> {
  for (const { sha256 } of attachments) {
    const body = documents.get(sha256)
    if (!body) throw new Error(`no test document has the digest ${sha256}`)
    const headers = { 'content-type': 'application/pdf' }
    const answer =
      'request' in region
        ? await region.request('POST', as.path, { body: body as Uint8Array<ArrayBuffer>, headers, ...(as.token ? { token: as.token } : {}) })
        : await fetch(`${region.url}${as.path}`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${as.token || region.adminToken}` }, body: body as Uint8Array<ArrayBuffer> })
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`uploading ${sha256} answered ${answer.status}: ${await answer.text()}`)
  }
}

/** A complete 公共场所卫生许可 application: every required attachment, a valid form. */
export function hygieneApplication(overrides: Record<string, unknown> = {}) {
  return {
    matter: 'public-place-hygiene',
    applicant: { kind: 'enterprise', uscc: testUscc(7), name: '龙岗悦来宾馆有限公司' },
    form: { legalRepresentative: '李四', address: '深圳市龙岗区龙岗大道1号', premisesType: '住宿场所（宾馆）', area: 1200 },
    attachments: ['premises-layout', 'hygiene-inspection-report', 'hygiene-management-rules'].map((key) => attachment(key)),
    ...overrides,
  }
}

/** A complete 企业设立登记 application accepted for 龙岗 (440307): the matter the sample agreement lets 赣州 accept for it. */
export function establishmentForLonggang(overrides: Record<string, unknown> = {}) {
  return {
    matter: 'enterprise-establishment',
    applicant: { kind: 'person', idNumber: '11010519491231002X', name: '王五' },
    form: { enterpriseName: '深圳龙岗通办科技有限公司', entityType: '有限责任公司', legalRepresentative: '王五', registeredCapital: '壹佰万元整', address: '深圳市龙岗区龙城街道1号', businessScope: '软件开发' },
    attachments: ['articles-of-association', 'legal-representative-id', 'premises-proof'].map((key) => attachment(key)),
    handlingRegion: '440307',
    ...overrides,
  }
}
