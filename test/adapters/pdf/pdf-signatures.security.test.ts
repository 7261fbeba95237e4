import { beforeAll, describe, expect, test } from 'vitest'
import { deflateSync } from 'node:zlib'
import { signPdf } from '../../../src/adapters/pdf/pades-sign'
import { derElementLength } from '../../../src/adapters/crypto/cms'
import { gatherPdfEvidence } from '../../../src/adapters/pdf/pdf-signatures'
import { PdfDict, PdfRef, serializeValue, type PdfValue } from '../../../src/adapters/pdf/pdf-syntax'
import { checkPdfSignatures, type PdfEvidence } from '../../../src/core/verification/pdf-checks'
import { appendUpdate, fillPlaceholder, finalState, makePdf, makeTestPki, placeholderContents, streamObject, withSignatureUpdate, type TestPki } from './pades-fixtures'

/**
 * Attacks on PDF signatures from the literature (Mladenov et al., "1 Trillion Dollar Refund",
 * CCS 2019: USF, ISA, SWA; Mainka et al., "Shadow Attacks", NDSS 2021; Rohlmann et al., "Breaking
 * the Specification: PDF Certification", S&P 2021: evil annotation, sneaky signature), each
 * built here and each caught by a named check. Every inspection must finish within a second
 * and never throw.
 */

let pki: TestPki
let plain: Uint8Array
let signed: Uint8Array
beforeAll(async () => {
  pki = await makeTestPki()
  plain = await makePdf({ useObjectStreams: false })
  signed = await signPdf(plain, pki.options('alice'))
})

async function inspect(pdf: Uint8Array): Promise<{ evidence: PdfEvidence; failed: string[][]; fileFailed: string[] }> {
  const started = performance.now()
  const evidence = await gatherPdfEvidence(pdf)
  expect(performance.now() - started).toBeLessThan(1000)
  const { file, signatures } = checkPdfSignatures(evidence)
  return { evidence, fileFailed: file.filter((c) => !c.passed).map((c) => c.name), failed: signatures.map((checks) => checks.filter((c) => !c.passed).map((c) => c.name)) }
}

function detail(evidence: PdfEvidence, index = 0): string {
  return checkPdfSignatures(evidence).signatures[index]?.find((c) => c.name === 'no-unallowed-changes-after-signature')?.detail ?? ''
}

const CRYPTO_OK = ['digest-matches', 'cms-signature-valid', 'signing-certificate-matches']

function pageObjects(pdf: Uint8Array) {
  const state = finalState(pdf)
  const page = state.pages()[0] as { ref: PdfRef; dict: PdfDict }
  const contents = page.dict.get('Contents')
  const content = (Array.isArray(contents) ? contents[0] : contents) as PdfRef
  const fonts = state.dict(state.dict(page.dict.get('Resources'))?.get('Font')) as PdfDict
  const [fontName, font] = [...fonts.entries][0] as [string, PdfRef]
  return { state, page, content, fontName, font, size: state.trailer.get('Size') as number }
}

const pdict = (entries: Record<string, PdfValue>) => new PdfDict(new Map(Object.entries(entries)))

const withPage = (page: PdfDict, key: string, value: Parameters<typeof serializeValue>[0]) => serializeValue(new PdfDict(new Map([...page.entries, [key, value]])))

describe('a clean document', () => {
  test('a double-signed PDF (second signature as an incremental update) passes every check', async () => {
    const twice = await signPdf(signed, pki.options('bob'))
    const { failed, fileFailed, evidence } = await inspect(twice)
    expect(fileFailed).toEqual([])
    expect(failed).toEqual([[], []])
    expect(evidence.signatures[0]?.updatesAfter.map((u) => u.kinds)).toEqual([['signature']])
  })
})

describe('byte range manipulation', () => {
  test('a gap larger than /Contents is refused although the CMS is valid over what it covers', async () => {
    const forged = await fillPlaceholder(withSignatureUpdate(plain), pki, 'alice', ([, a, b, c]) => [0, a - 10, b, c + 0])
    const { failed } = await inspect(forged)
    expect(failed[0]).toEqual(['contents-is-own-gap'])
  })

  test('a byte range that ends before the end of the file is refused although the CMS is valid', async () => {
    const forged = await fillPlaceholder(withSignatureUpdate(plain), pki, 'alice', ([, a, b, c]) => [0, a, b, c - 40])
    const { failed } = await inspect(forged)
    expect(failed[0]).toContain('byte-range-covers-revision')
    expect(failed[0]).not.toEqual(expect.arrayContaining(CRYPTO_OK))
  })

  test('a byte range past the end of the file is refused', async () => {
    const forged = await fillPlaceholder(withSignatureUpdate(plain), pki, 'alice')
    const patched = Buffer.from(forged).toString('latin1').replace(/\/ByteRange \[0 (\d+) (\d+) (\d+)\s*\]/, (m, a, b, c) => `/ByteRange [0 ${a} ${b} ${Number(c) + 5000}]`.padEnd(m.length, ' '))
    const { failed } = await inspect(new Uint8Array(Buffer.from(patched, 'latin1')))
    expect(failed[0]).toEqual(expect.arrayContaining(['byte-range-covers-revision', 'digest-matches']))
  })
})

describe('incremental saving attacks', () => {
  test('an update replacing the licence text (content stream redefined) is a modification', async () => {
    const { content } = pageObjects(signed)
    const forged = appendUpdate(signed, { [content.num]: streamObject('BT /F1 24 Tf 50 780 Td (FORGED LICENCE) Tj ET') })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('page content stream')
  })

  test('an update pointing the page at a new content stream is a modification', async () => {
    const { page, size } = pageObjects(signed)
    const forged = appendUpdate(signed, { [size]: streamObject('BT /F1 24 Tf 50 780 Td (FORGED) Tj ET'), [page.ref.num]: withPage(page.dict, 'Contents', new PdfRef(size, 0)) }, { size: size + 1 })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('page /Contents changed')
  })

  test('an update that appends objects without a cross-reference section is a modification', async () => {
    const forged = new Uint8Array([...signed, ...Buffer.from('\n99 0 obj\n<</Evil true>>\nendobj\n', 'latin1')])
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('trailing data')
  })

  test('an update whose /Prev skips the signed revision is a modification', async () => {
    const { content } = pageObjects(signed)
    const firstXref = finalState(plain).chain[0]?.offset as number
    const update = Buffer.from(appendUpdate(signed, { [content.num]: streamObject('BT (X) Tj ET') }).subarray(signed.length)).toString('latin1')
    const rewired = update.replace(/\/Prev \d+/, `/Prev ${firstXref}`)
    const { fileFailed, evidence } = await inspect(new Uint8Array([...signed, ...Buffer.from(rewired, 'latin1')]))
    // A reader of the final file no longer sees the signature at all, and the change is reported.
    expect(fileFailed).toEqual(['pdf-signed'])
    expect(evidence.updates.at(-1)?.changes.filter((c) => !c.allowed).map((c) => c.what)).toEqual(['page content stream'])
  })
})

describe('evil annotation and overlays', () => {
  test('a FreeText annotation added after signing is a modification', async () => {
    const { page, size } = pageObjects(signed)
    const annots = finalState(signed).array(page.dict.get('Annots')) ?? []
    const forged = appendUpdate(
      signed,
      {
        [size]: '<</Type/Annot/Subtype/FreeText/Rect[40 740 560 800]/Contents(Licence revoked: void)/DA(/Helv 20 Tf 1 0 0 rg)/F 4>>',
        [page.ref.num]: withPage(page.dict, 'Annots', [...annots, new PdfRef(size, 0)]),
      },
      { size: size + 1 },
    )
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('FreeText annotation')
  })

  test('a widget that is not a signature field (evil annotation) is a modification', async () => {
    const { page, size } = pageObjects(signed)
    const annots = finalState(signed).array(page.dict.get('Annots')) ?? []
    const forged = appendUpdate(
      signed,
      {
        [size]: `<</Type/Annot/Subtype/Widget/FT/Tx/T(overlay)/Rect[40 740 560 800]/AP<</N ${size + 1} 0 R>>/F 4>>`,
        [size + 1]: streamObject('1 1 1 rg 0 0 520 60 re f 0 0 0 rg BT /Helv 20 Tf 5 20 Td (Capital: 1 CNY) Tj ET', '/Type/XObject/Subtype/Form/BBox[0 0 520 60]'),
        [page.ref.num]: withPage(page.dict, 'Annots', [...annots, new PdfRef(size, 0)]),
      },
      { size: size + 2 },
    )
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('Widget annotation')
    expect(detail(evidence)).toContain('form XObject')
  })

  test('a new widget hung under the existing signed field (new appearance, no new signature) is a modification', async () => {
    const { page, size } = pageObjects(signed)
    const state = finalState(signed)
    const annots = state.array(page.dict.get('Annots')) ?? []
    const aliceField = state.array(state.dict(state.catalog().dict.get('AcroForm'))?.get('Fields'))?.[0] as PdfRef
    const forged = appendUpdate(
      signed,
      {
        [size]: `<</Type/Annot/Subtype/Widget/Parent ${aliceField.num} 0 R/Rect[40 740 560 800]/AP<</N ${size + 1} 0 R>>/F 4>>`,
        [size + 1]: streamObject('1 1 1 rg 0 0 520 60 re f', '/Type/XObject/Subtype/Form/BBox[0 0 520 60]'),
        [page.ref.num]: withPage(page.dict, 'Annots', [...annots, new PdfRef(size, 0)]),
      },
      { size: size + 2 },
    )
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('Widget annotation')
  })

  test('an empty signature field of the signed revision given an appearance but no signature is a modification', async () => {
    const state = finalState(plain)
    const size = state.trailer.get('Size') as number
    const page = state.pages()[0] as { ref: PdfRef; dict: PdfDict }
    const catalog = state.catalog()
    const empty = `<</Type/Annot/Subtype/Widget/FT/Sig/T(Approval)/F 4/P ${page.ref.num} 0 R/Rect[40 740 560 800]>>`
    const prepared = appendUpdate(
      plain,
      { [size]: empty, [page.ref.num]: withPage(page.dict, 'Annots', [new PdfRef(size, 0)]), [catalog.ref.num]: serializeValue(new PdfDict(new Map([...catalog.dict.entries, ['AcroForm', pdict({ Fields: [new PdfRef(size, 0)] })]]))) },
      { size: size + 1 },
    )
    const shadowSigned = await signPdf(prepared, pki.options('alice'))
    const next = finalState(shadowSigned).trailer.get('Size') as number
    const forged = appendUpdate(shadowSigned, { [size]: empty.replace(/>>$/, `/AP<</N ${next} 0 R>>>>`), [next]: streamObject('1 1 1 rg 0 0 520 60 re f', '/Type/XObject/Subtype/Form/BBox[0 0 520 60]') }, { size: next + 1 })
    const { failed, evidence } = await inspect(forged)
    expect(evidence.signatures.map((s) => s.fieldName)).toEqual(['Signature1'])
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('without being signed')
  })

  test('an unsigned signature field with a visible appearance added later is a modification', async () => {
    const forged = withSignatureUpdate(signed, { sigDict: '<</Foo 1>>' })
    const text = Buffer.from(forged).toString('latin1')
    const at = text.lastIndexOf('/V ')
    const bare = text.slice(0, at) + text.slice(at).replace(/\/V \d+ 0 R/, (m) => '/V null'.padEnd(m.length, ' '))
    const { failed, evidence } = await inspect(new Uint8Array(Buffer.from(bare, 'latin1')))
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('unsigned signature field')
  })
})

describe('shadow attacks', () => {
  /** A document prepared by the attacker before signing, hiding content for later. */
  async function shadowDocument() {
    const { page, content, size } = pageObjects(plain)
    const contents = [content, new PdfRef(size + 1, 0)]
    const prepared = appendUpdate(
      plain,
      {
        [size]: '<</Type/OCG/Name(overlay)>>',
        [size + 1]: streamObject('/OC /oc1 BDC 1 1 1 rg 40 740 520 60 re f 0 0 0 rg BT /F1 20 Tf 50 760 Td (Licence revoked) Tj ET EMC'),
        [size + 2]: streamObject('BT /F1 24 Tf 50 780 Td (Replacement licence text) Tj ET'),
        [page.ref.num]: serializeValue(
          new PdfDict(
            new Map([
              ...page.dict.entries,
              ['Contents', contents],
              ['Resources', new PdfDict(new Map([...(finalState(plain).dict(page.dict.get('Resources'))?.entries ?? []), ['Properties', new PdfDict(new Map([['oc1', new PdfRef(size, 0)]]))]]))],
            ]),
          ),
        ),
        [finalState(plain).catalog().ref.num]: serializeValue(
          new PdfDict(new Map([...finalState(plain).catalog().dict.entries, ['OCProperties', pdict({ OCGs: [new PdfRef(size, 0)], D: pdict({ OFF: [new PdfRef(size, 0)] }) })]])),
        ),
      },
      { size: size + 3 },
    )
    const shadowSigned = await signPdf(prepared, pki.options('alice'))
    return { shadowSigned, ocg: size, hiddenStream: size + 2 }
  }

  test('hide: making hidden optional content visible (catalog /OCProperties) is a modification', async () => {
    const { shadowSigned, ocg } = await shadowDocument()
    const state = finalState(shadowSigned)
    const catalog = state.catalog()
    const forged = appendUpdate(shadowSigned, {
      [catalog.ref.num]: serializeValue(new PdfDict(new Map([...catalog.dict.entries, ['OCProperties', pdict({ OCGs: [new PdfRef(ocg, 0)], D: pdict({ ON: [new PdfRef(ocg, 0)] }) })]]))),
    })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('catalog /OCProperties changed')
  })

  test('replace: redefining a font of the signed revision is a modification', async () => {
    const { shadowSigned } = await shadowDocument()
    const { font } = pageObjects(shadowSigned)
    const forged = appendUpdate(shadowSigned, { [font.num]: '<</Type/Font/Subtype/Type1/BaseFont/ZapfDingbats>>' })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('font')
  })

  test('hide-and-replace: pointing the page at content hidden in the signed revision is a modification', async () => {
    const { shadowSigned, hiddenStream } = await shadowDocument()
    const { page } = pageObjects(shadowSigned)
    const forged = appendUpdate(shadowSigned, { [page.ref.num]: withPage(page.dict, 'Contents', new PdfRef(hiddenStream, 0)) })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('page /Contents changed')
  })

  for (const [key, value] of [['Metadata', (n: number) => new PdfRef(n, 0)], ['DSS', (n: number) => pdict({ Certs: [new PdfRef(n, 0)] })]] as const) {
    test(`replace: page content that doubles as catalog /${key} may not change under the metadata or DSS rule`, async () => {
      const { content } = pageObjects(plain)
      const catalog = finalState(plain).catalog()
      const prepared = appendUpdate(plain, { [catalog.ref.num]: serializeValue(new PdfDict(new Map([...catalog.dict.entries, [key, value(content.num)]]))) })
      const shadowSigned = await signPdf(prepared, pki.options('alice'))
      const forged = appendUpdate(shadowSigned, { [content.num]: streamObject('BT /F1 24 Tf 50 780 Td (FORGED) Tj ET', key === 'Metadata' ? '/Type/Metadata/Subtype/XML' : '') })
      const { failed, evidence } = await inspect(forged)
      expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
      expect(detail(evidence)).toContain('page content stream')
    })
  }

  test('replace: page resources changed after signing is a modification', async () => {
    const { page, fontName } = pageObjects(signed)
    const resources = finalState(signed).dict(page.dict.get('Resources')) as PdfDict
    const forged = appendUpdate(signed, { [page.ref.num]: withPage(page.dict, 'Resources', new PdfDict(new Map([...resources.entries, ['Font', new PdfDict(new Map([[fontName, new PdfRef(1, 0)]]))]]))) })
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('page /Resources changed')
  })
})

describe('signature wrapping', () => {
  function signatureObject(pdf: Uint8Array) {
    const state = finalState(pdf)
    const field = state.dict(state.array(state.dict(state.catalog().dict.get('AcroForm'))?.get('Fields'))?.[0])
    const v = field?.get('V') as PdfRef
    return { num: v.num, dict: state.dict(v) as PdfDict }
  }

  test('a later update rewriting the signature dictionary elsewhere (same values) leaves the gap orphaned', async () => {
    const sig = signatureObject(signed)
    const { failed } = await inspect(appendUpdate(signed, { [sig.num]: serializeValue(sig.dict) }))
    expect(failed[0]).toEqual(['contents-is-own-gap'])
  })

  test('a later update moving /Contents to a new hex string is caught', async () => {
    const sig = signatureObject(signed)
    const moved = serializeValue(new PdfDict(new Map([...sig.dict.entries]))).replace(/\/Contents <[0-9a-f]+>/, `/Contents ${placeholderContents(16)}`)
    const { failed, evidence } = await inspect(appendUpdate(signed, { [sig.num]: moved }))
    expect(failed[0]).toEqual(expect.arrayContaining(['contents-is-own-gap', 'cms-well-formed', 'no-unallowed-changes-after-signature']))
    expect(detail(evidence)).toContain('signature dictionary')
  })

  test('a second /Contents inserted into the signature dictionary is caught', async () => {
    const sig = signatureObject(signed)
    const doubled = serializeValue(sig.dict).replace(/>>$/, `/Contents ${placeholderContents(16)}>>`)
    const { failed } = await inspect(appendUpdate(signed, { [sig.num]: doubled }))
    expect(failed[0]).toEqual(expect.arrayContaining(['contents-is-own-gap', 'cms-well-formed', 'no-unallowed-changes-after-signature']))
  })

  test('a signature dictionary whose ByteRange points at another hex string is caught', async () => {
    const twice = await signPdf(signed, pki.options('bob'))
    const sigs = (await gatherPdfEvidence(twice)).signatures
    const bob = signatureObject(twice)
    const state = finalState(twice)
    const bobField = state.dict(state.array(state.dict(state.catalog().dict.get('AcroForm'))?.get('Fields'))?.[1])
    const bobSig = bobField?.get('V') as PdfRef
    const aliceRange = sigs[0]?.byteRange as number[]
    const swapped = serializeValue(new PdfDict(new Map([...(state.dict(bobSig) as PdfDict).entries, ['ByteRange', aliceRange]])))
    expect(bob.num).not.toBe(bobSig.num)
    const { failed } = await inspect(appendUpdate(twice, { [bobSig.num]: swapped }))
    expect(failed[1]).toEqual(['contents-is-own-gap', 'digest-matches', 'no-unallowed-changes-after-signature'])
  })
})

describe('universal signature forgery', () => {
  const variants: [string, string, string[]][] = [
    ['empty /Contents', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 10 20 30]/Contents<>>>`, ['cms-well-formed', 'digest-matches', 'cms-signature-valid']],
    ['/Contents of zeros', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange ${'[0 0 0 0]'}/Contents ${placeholderContents(64)}>>`, ['byte-range-well-formed', 'cms-well-formed', 'cms-signature-valid']],
    ['no /ByteRange', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/Contents ${placeholderContents(64)}>>`, ['byte-range-well-formed', 'contents-is-own-gap', 'cms-signature-valid']],
    ['/ByteRange [0 0 0 0]', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 0 0 0]/Contents<3082>>>`, ['byte-range-well-formed', 'byte-range-covers-revision', 'cms-well-formed']],
    ['/ByteRange null and /Contents null', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange null/Contents null>>`, ['byte-range-well-formed', 'cms-well-formed', 'cms-signature-valid']],
    ['a six-number /ByteRange', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 1 2 3 4 5]/Contents<00>>>`, ['byte-range-well-formed', 'cms-well-formed']],
    ['negative and huge numbers', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 -5 99999999999999 3.5]/Contents<30800000>>>`, ['byte-range-well-formed', 'cms-well-formed']],
    ['/Contents as a literal string', `<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 10 20 30]/Contents(0\\202)>>`, ['contents-is-own-gap', 'cms-well-formed']],
    ['a signature value that is not a dictionary', `(just a string)`, ['byte-range-well-formed', 'cms-well-formed', 'cms-signature-valid']],
  ]
  for (const [name, sigDict, mustFail] of variants) {
    test(`${name} is refused`, async () => {
      const { failed, evidence } = await inspect(withSignatureUpdate(plain, { sigDict }))
      expect(evidence.formatProblem).toBeNull()
      expect(evidence.signatures).toHaveLength(1)
      expect(failed[0]).toEqual(expect.arrayContaining(mustFail))
    })
  }

  test('a CMS whose signature value was altered does not verify, though everything else holds', async () => {
    const forged = await fillPlaceholder(withSignatureUpdate(plain), pki, 'alice')
    const [sig] = (await gatherPdfEvidence(forged)).signatures
    const start = sig?.contents?.start as number
    const cmsLength = derElementLength(Buffer.from(Buffer.from(forged.subarray(start + 1, (sig?.contents?.end as number) - 1)).toString('latin1'), 'hex'))
    const lastByte = start + 2 * cmsLength
    const flipped = forged.slice()
    flipped[lastByte] = flipped[lastByte] === 0x31 ? 0x32 : 0x31
    const { failed } = await inspect(flipped)
    expect(failed[0]).toEqual(['cms-signature-valid'])
  })
})

describe('sneaky signature', () => {
  test('a later signature whose own update also changes content leaves the earlier signature failed', async () => {
    const { content } = pageObjects(signed)
    const update = withSignatureUpdate(signed, { extra: { [content.num]: streamObject('BT /F1 24 Tf 50 780 Td (FORGED) Tj ET') } })
    const forged = await fillPlaceholder(update, pki, 'bob')
    const { failed, evidence } = await inspect(forged)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(failed[1]).toEqual([])
    expect(evidence.updates.at(-1)?.kinds).toEqual(expect.arrayContaining(['signature', 'modification']))
  })
})

describe('damaged and foreign input', () => {
  test('a double-signed file truncated inside the second update: the first signature sees unrevised trailing bytes', async () => {
    const twice = await signPdf(signed, pki.options('bob'))
    const cut = twice.subarray(0, signed.length + Math.floor((twice.length - signed.length) / 2))
    const { failed, evidence } = await inspect(cut)
    expect(evidence.signatures).toHaveLength(1)
    expect(failed[0]).toEqual(['no-unallowed-changes-after-signature'])
    expect(detail(evidence)).toContain('trailing data')
  })

  test('a signed file cut before its last %%EOF loses the signature and says so', async () => {
    const { fileFailed } = await inspect(signed.subarray(0, signed.length - 10))
    expect(fileFailed).toContain('pdf-signed')
  })

  test('a file cut short of any revision is a format failure', async () => {
    const { fileFailed, evidence } = await inspect(signed.subarray(0, 400))
    expect(fileFailed).toEqual(['pdf-well-formed', 'pdf-signed'])
    expect(evidence.formatProblem).toMatch(/startxref|truncated/)
  })

  const foreign: [string, Uint8Array][] = [
    ['empty input', new Uint8Array()],
    ['a PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ['text', new TextEncoder().encode('hello, this is not a PDF')],
    ['a header alone', new TextEncoder().encode('%PDF-1.7\n')],
    ['a startxref pointing nowhere', new TextEncoder().encode('%PDF-1.7\nstartxref\n999999\n%%EOF\n')],
    ['a /Prev loop', new TextEncoder().encode('%PDF-1.7\nxref\n0 1\n0000000000 65535 f\r\ntrailer\n<</Size 1/Prev 9>>\nstartxref\n9\n%%EOF\n')],
    ['a deflate bomb as cross-reference stream', bombXref()],
    ['deeply nested arrays', new TextEncoder().encode(`%PDF-1.7\n1 0 obj\n${'['.repeat(5000)}\nendobj\nxref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<</Size 2/Root 1 0 R>>\nstartxref\n5020\n%%EOF\n`)],
  ]
  for (const [name, bytes] of foreign) {
    test(`${name} is a format failure, not an exception`, async () => {
      const { fileFailed, evidence } = await inspect(bytes)
      expect(fileFailed).toContain('pdf-well-formed')
      expect(evidence.signatures).toEqual([])
    })
  }

  test('random corruption of a signed file never throws and never hangs', async () => {
    let seed = 42
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const started = performance.now()
    for (let i = 0; i < 150; i++) {
      const copy = signed.slice()
      for (let k = 0; k < 1 + Math.floor(random() * 8); k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256)
      const evidence = await gatherPdfEvidence(copy)
      const { signatures } = checkPdfSignatures(evidence)
      const intact = copy.every((b, j) => b === signed[j])
      if (!intact && evidence.signatures.length === 1 && evidence.formatProblem === null) {
        // Flipped bytes inside the signed ranges must break the digest; inside the gap, the CMS.
        expect(signatures[0]?.every((c) => c.passed)).toBe(false)
      }
    }
    expect(performance.now() - started).toBeLessThan(30_000)
  })
})

function bombXref(): Uint8Array {
  const zeros = new Uint8Array(80 * 1024 * 1024)
  const compressed = new Uint8Array(deflateSync(zeros))
  const head = `%PDF-1.7\n1 0 obj\n<</Type/XRef/Size 1/W[1 4 2]/Filter/FlateDecode/Length ${compressed.length}>>\nstream\n`
  const tail = `\nendstream\nendobj\nstartxref\n9\n%%EOF\n`
  return new Uint8Array([...Buffer.from(head, 'latin1'), ...compressed, ...Buffer.from(tail, 'latin1')])
}

