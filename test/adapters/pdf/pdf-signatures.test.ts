import { beforeAll, describe, expect, test } from 'vitest'
import { signPdf } from '../../../src/adapters/pdf/pades-sign'
import { gatherPdfEvidence, inspectPdfSignatures, pdfDate } from '../../../src/adapters/pdf/pdf-signatures'
import { PdfDict, PdfRef, serializeValue, type PdfValue } from '../../../src/adapters/pdf/pdf-syntax'
import { checkPdfSignatures } from '../../../src/core/verification/pdf-checks'
import { OID } from '../../../src/adapters/crypto/cms'
import { appendUpdate, fillPlaceholder, fillPlaceholderWith, finalState, makePdf, makeTestPki, placeholderContents, PLACEHOLDER_BYTE_RANGE, streamObject, timestampToken, withSignatureUpdate, type TestPki } from './pades-fixtures'

let pki: TestPki
let plain: Uint8Array
let signed: Uint8Array
beforeAll(async () => {
  pki = await makeTestPki()
  plain = await makePdf({ useObjectStreams: false })
  signed = await signPdf(plain, pki.options('alice', { signingTime: new Date('2026-05-04T03:02:01Z') }))
})

const pdict = (entries: Record<string, PdfValue>) => new PdfDict(new Map(Object.entries(entries)))

function failedChecks(evidence: Awaited<ReturnType<typeof gatherPdfEvidence>>): string[][] {
  return checkPdfSignatures(evidence).signatures.map((checks) => checks.filter((c) => !c.passed).map((c) => c.name))
}

describe('gatherPdfEvidence', () => {
  test('an unsigned PDF is well formed and has no signatures', async () => {
    const evidence = await gatherPdfEvidence(plain)
    expect(evidence.formatProblem).toBeNull()
    expect(evidence.signatures).toEqual([])
    expect(evidence.bytesAfterLastSignature).toBeNull()
    expect(evidence.updates).toEqual([])
    expect(checkPdfSignatures(evidence).file.map((c) => [c.name, c.passed])).toEqual([
      ['pdf-well-formed', true],
      ['pdf-signed', false],
    ])
  })

  test('reports the facts of a signature: range, own gap, revision, CMS, time', async () => {
    const [sig] = await inspectPdfSignatures(signed)
    const [, a, b, c] = sig?.byteRange as number[]
    expect(sig).toMatchObject({ index: 0, fieldName: 'Signature1', type: 'Sig', filter: 'Adobe.PPKLite', subFilter: 'ETSI.CAdES.detached', contents: { start: a, end: b }, revisionEnd: signed.length, fileLength: signed.length, signingTime: '2026-05-04T03:02:01.000Z', problem: null, updatesAfter: [] })
    expect((b as number) + (c as number)).toBe(signed.length)
    expect(sig?.cms).toMatchObject({ digestAlgorithm: 'SHA-256', signatureAlgorithm: 'ECDSA with SHA-256', messageDigestMatches: true, signatureValid: true, signingCertificate: 'match' })
    expect(sig?.cms?.certificates).toHaveLength(3)
    expect((await gatherPdfEvidence(signed)).bytesAfterLastSignature).toBe(0)
  })

  test('validation data (DSS) added after signing is allowed', async () => {
    const state = finalState(signed)
    const catalog = state.catalog()
    const size = state.trailer.get('Size') as number
    const withDss = appendUpdate(
      signed,
      {
        [size]: streamObject('fake certificate bytes'),
        [size + 1]: serializeValue(pdict({ Certs: [new PdfRef(size, 0)] })),
        [catalog.ref.num]: serializeValue(new PdfDict(new Map([...catalog.dict.entries, ['DSS', new PdfRef(size + 1, 0)]]))),
      },
      { size: size + 2 },
    )
    const evidence = await gatherPdfEvidence(withDss)
    expect(failedChecks(evidence)).toEqual([[]])
    expect(evidence.updates.at(-1)?.kinds).toEqual(['dss'])
    expect(evidence.bytesAfterLastSignature).toBe(withDss.length - signed.length)
  })

  test('a document information update and an unchanged rewrite are allowed', async () => {
    const state = finalState(signed)
    const size = state.trailer.get('Size') as number
    const page = state.pages()[0] as { ref: PdfRef; dict: PdfDict }
    const withInfo = appendUpdate(signed, { [size]: serializeValue(pdict({ ModDate: new PdfDict() })), [page.ref.num]: serializeValue(page.dict) }, { size: size + 1, info: size })
    const evidence = await gatherPdfEvidence(withInfo)
    expect(failedChecks(evidence)).toEqual([[]])
    expect(evidence.updates.at(-1)?.kinds).toEqual(['metadata'])
  })

  test('an empty signature field of the signed revision may be signed later', async () => {
    const state = finalState(plain)
    const size = state.trailer.get('Size') as number
    const page = state.pages()[0] as { ref: PdfRef; dict: PdfDict }
    const catalog = state.catalog()
    const field = size
    const withEmptyField = appendUpdate(
      plain,
      {
        [field]: `<</Type/Annot/Subtype/Widget/FT/Sig/T(Approval)/F 132/P ${page.ref.num} 0 R/Rect[0 0 0 0]>>`,
        [page.ref.num]: serializeValue(new PdfDict(new Map([...page.dict.entries, ['Annots', [new PdfRef(field, 0)]]]))),
        [catalog.ref.num]: serializeValue(new PdfDict(new Map([...catalog.dict.entries, ['AcroForm', pdict({ Fields: [new PdfRef(field, 0)], SigFlags: 3 })]]))),
      },
      { size: size + 1 },
    )
    const byAlice = await signPdf(withEmptyField, pki.options('alice'))
    const aliceSize = finalState(byAlice).trailer.get('Size') as number
    const filled = appendUpdate(
      byAlice,
      {
        [aliceSize]: `<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange ${PLACEHOLDER_BYTE_RANGE}/Contents ${placeholderContents()}>>`,
        [field]: `<</Type/Annot/Subtype/Widget/FT/Sig/T(Approval)/F 132/P ${page.ref.num} 0 R/Rect[0 0 0 0]/V ${aliceSize} 0 R>>`,
      },
      { size: aliceSize + 1 },
    )
    const byBob = await fillPlaceholder(filled, pki, 'bob')
    const evidence = await gatherPdfEvidence(byBob)
    expect(evidence.signatures.map((s) => s.fieldName)).toEqual(['Approval', 'Signature1'])
    expect(failedChecks(evidence)).toEqual([[], []])
    expect(evidence.updates.at(-1)?.kinds).toEqual(['signature'])
  })

  test('a document timestamp (RFC 3161) after a signature is verified and allowed', async () => {
    const docTimeStamp = `<</Type/DocTimeStamp/SubFilter/ETSI.RFC3161/ByteRange ${PLACEHOLDER_BYTE_RANGE}/Contents ${placeholderContents()}>>`
    const stamped = await fillPlaceholderWith(withSignatureUpdate(signed, { sigDict: docTimeStamp }), (covered) => timestampToken(pki, covered))
    const evidence = await gatherPdfEvidence(stamped)
    expect(failedChecks(evidence)).toEqual([[], []])
    expect(evidence.updates.at(-1)?.kinds).toEqual(['doc-timestamp'])
    const ts = evidence.signatures[1]
    expect(ts).toMatchObject({ type: 'DocTimeStamp', subFilter: 'ETSI.RFC3161', cms: { encapsulatedContentType: OID.tstInfo, detached: false, signingCertificate: 'match', timestamp: { imprintMatches: true, imprintAlgorithm: 'SHA-256' } } })
    expect(Math.abs(Date.parse(ts?.cms?.timestamp?.genTime as string) - Date.now())).toBeLessThan(120_000)
    expect(Buffer.from(ts?.cms?.signerCertificate as Uint8Array).equals(Buffer.from(pki.tsa.certificate.rawData))).toBe(true)
  })

  test('a document timestamp over other bytes fails digest-matches', async () => {
    const docTimeStamp = `<</Type/DocTimeStamp/SubFilter/ETSI.RFC3161/ByteRange ${PLACEHOLDER_BYTE_RANGE}/Contents ${placeholderContents()}>>`
    const stamped = await fillPlaceholderWith(withSignatureUpdate(signed, { sigDict: docTimeStamp }), () => timestampToken(pki, new TextEncoder().encode('something else')))
    expect(failedChecks(await gatherPdfEvidence(stamped))).toEqual([[], ['digest-matches']])
  })

  test('reads documents whose objects sit in object streams (pdf-lib default) and signs on top', async () => {
    const compressed = await makePdf({ useObjectStreams: true })
    const twice = await signPdf(await signPdf(compressed, pki.options('alice')), pki.options('bob'))
    const evidence = await gatherPdfEvidence(twice)
    expect(evidence.revisions).toHaveLength(3)
    expect(failedChecks(evidence)).toEqual([[], []])
  })
})

describe('pdfDate', () => {
  test.each([
    ['D:20260504030201Z', '2026-05-04T03:02:01.000Z'],
    ["D:20260504110201+08'00'", '2026-05-04T03:02:01.000Z'],
    ['D:2026', '2026-01-01T00:00:00.000Z'],
    ['20260504', null],
    ['D:20261399', null],
  ])('%s → %s', (text, iso) => {
    expect(pdfDate(text)).toBe(iso)
  })
})
