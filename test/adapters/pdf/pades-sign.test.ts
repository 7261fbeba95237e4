import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PDFDocument } from 'pdf-lib'
import { beforeAll, describe, expect, test } from 'vitest'
import { loadCjkFont } from '../../../src/adapters/pdf/cjk-font'
import { licenceSealRect, renderLicencePdf } from '../../../src/adapters/pdf/licence-pdf'
import { signPdf } from '../../../src/adapters/pdf/pades-sign'
import { drawSeal } from '../../../src/adapters/pdf/seal-drawing'
import { withUsccCheck } from '../../../src/core/licence/uscc'
import { derElementLength } from '../../../src/adapters/crypto/cms'
import { PdfSigningError } from '../../../src/adapters/pdf/pdf-errors'
import { gatherPdfEvidence } from '../../../src/adapters/pdf/pdf-signatures'
import { PdfString } from '../../../src/adapters/pdf/pdf-syntax'
import { checkPdfSignatures } from '../../../src/core/verification/pdf-checks'
import { finalState, makePdf, makeTestPki, nssDbTrusting, pdfsig, tempDir, type TestPki } from './pades-fixtures'

let pki: TestPki
let nss: string
beforeAll(async () => {
  pki = await makeTestPki()
  nss = nssDbTrusting(pki.root)
})

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')
/** The CMS in /Contents, cut at its DER length: the zero padding after it is not part of it, but a zero byte inside it is. */
function cmsOf(pdf: Uint8Array, hexStart: number, hexEnd: number): Buffer {
  const padded = Buffer.from(latin1(pdf.subarray(hexStart + 1, hexEnd - 1)), 'hex')
  return padded.subarray(0, derElementLength(padded))
}

function signatureBlocks(report: string): string[] {
  return report.split(/^Signature #\d+:$/m).slice(1)
}

async function allChecksPass(pdf: Uint8Array) {
  const evidence = await gatherPdfEvidence(pdf)
  const { file, signatures } = checkPdfSignatures(evidence)
  expect(file.filter((c) => !c.passed)).toEqual([])
  for (const checks of signatures) expect(checks.filter((c) => !c.passed)).toEqual([])
  return evidence
}

describe('signPdf', () => {
  for (const useObjectStreams of [true, false]) {
    const style = useObjectStreams ? 'cross-reference stream' : 'cross-reference table'
    test(`signs a pdf-lib PDF (${style}); pdfsig finds the signature valid, trusted and covering the whole document`, async () => {
      const pdf = await makePdf({ useObjectStreams })
      const signed = await signPdf(pdf, pki.options('alice', { reason: '电子证照签发', location: '赣州市' }))
      expect(latin1(signed.subarray(0, pdf.length))).toBe(latin1(pdf))
      const [block, ...rest] = signatureBlocks(pdfsig(signed, nss))
      expect(rest).toEqual([])
      expect(block).toContain('Signer Certificate Common Name: Alice Signer')
      expect(block).toContain('Signature Type: ETSI.CAdES.detached')
      expect(block).toContain('Total document signed')
      expect(block).toContain('Signature Validation: Signature is Valid.')
      expect(block).toContain('Certificate Validation: Certificate is Trusted.')
      const evidence = await allChecksPass(signed)
      expect(evidence.signatures[0]?.reason).toBe('电子证照签发')
      expect(evidence.signatures[0]?.location).toBe('赣州市')
    })

    test(`a second signer appends an incremental update (${style}); pdfsig reports both valid`, async () => {
      const once = await signPdf(await makePdf({ useObjectStreams }), pki.options('alice'))
      const twice = await signPdf(once, pki.options('bob'))
      expect(latin1(twice.subarray(0, once.length))).toBe(latin1(once))
      const xrefKind = (pdf: Uint8Array) => finalState(pdf).chain[0]?.kind
      expect(xrefKind(twice)).toBe(useObjectStreams ? 'stream' : 'table')
      const [first, second, ...rest] = signatureBlocks(pdfsig(twice, nss))
      expect(rest).toEqual([])
      expect(first).toContain('Alice Signer')
      expect(first).toContain('Signature Validation: Signature is Valid.')
      expect(first).toContain('Not total document signed')
      expect(second).toContain('Bob Signer')
      expect(second).toContain('Signature Validation: Signature is Valid.')
      expect(second).toContain('Total document signed')
      const evidence = await allChecksPass(twice)
      expect(evidence.updates.map((u) => u.kinds)).toEqual([['signature'], ['signature']])
    })
  }

  test('the CMS verifies with openssl over the signed byte ranges, chaining to the root', async () => {
    const signed = await signPdf(await makePdf(), pki.options('alice'))
    const [sig] = (await gatherPdfEvidence(signed)).signatures
    const [, a, b, c] = sig?.byteRange as number[]
    const dir = tempDir()
    writeFileSync(join(dir, 'sig.der'), cmsOf(signed, a as number, b as number))
    writeFileSync(join(dir, 'data.bin'), Buffer.concat([signed.subarray(0, a), signed.subarray(b, (b as number) + (c as number))]))
    writeFileSync(join(dir, 'root.pem'), pki.root.toString('pem'))
    const out = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, 'data.bin'), '-CAfile', join(dir, 'root.pem'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(out).toBe('')
    const attrs = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'sig.der')], { encoding: 'utf8' })
    expect(attrs).toContain('id-smime-aa-signingCertificateV2')
    expect(attrs).toContain('messageDigest')
    expect(attrs).not.toContain('signingTime')
  })

  test('signs with an RSA key (RSASSA-PKCS1-v1_5, SHA-256)', async () => {
    const signed = await signPdf(await makePdf(), pki.options('rsa'))
    const [block] = signatureBlocks(pdfsig(signed, nss))
    expect(block).toContain('RSA Signer')
    expect(block).toContain('Signature Validation: Signature is Valid.')
    const evidence = await allChecksPass(signed)
    expect(evidence.signatures[0]?.cms?.signatureAlgorithm).toBe('RSASSA-PKCS1-v1_5 with SHA-256')
  })

  test('writes the claimed time to /M and keeps it out of the CMS', async () => {
    const signingTime = new Date('2026-03-01T08:30:00Z')
    const signed = await signPdf(await makePdf(), pki.options('alice', { signingTime, name: '赣州市行政审批局' }))
    const [sig] = (await gatherPdfEvidence(signed)).signatures
    expect(sig?.signingTime).toBe('2026-03-01T08:30:00.000Z')
    expect(sig?.name).toBe('赣州市行政审批局')
    expect(sig?.cms?.hasSigningTimeAttribute).toBe(false)
  })

  test('draws a visible appearance on the chosen page from a drawing callback', async () => {
    const pdf = await makePdf({ pages: 2 })
    const signed = await signPdf(pdf, pki.options('alice', { appearance: { page: 1, rect: [400, 60, 520, 180], draw: (page) => page.drawCircle({ x: 60, y: 60, size: 50, borderWidth: 4 }) } }))
    const state = finalState(signed)
    const page = state.pages()[1]
    const annots = state.array(page?.dict.get('Annots')) ?? []
    expect(annots).toHaveLength(1)
    const widget = state.dict(annots[0])
    expect(widget?.get('Rect')).toEqual([400, 60, 520, 180])
    const ap = state.dict(state.dict(widget?.get('AP'))?.get('N'))
    expect(ap?.get('BBox')).toEqual([0, 0, 120, 120])
    expect(state.array(state.pages()[0]?.dict.get('Annots')) ?? []).toEqual([])
    const evidence = await allChecksPass(signed)
    expect(evidence.updates[0]?.signatureWidgets).toEqual([{ field: 'Signature1', page: 1, rect: [400, 60, 520, 180] }])
    const [block] = signatureBlocks(pdfsig(signed, nss))
    expect(block).toContain('Signature Validation: Signature is Valid.')
    const dir = tempDir()
    writeFileSync(join(dir, 'v.pdf'), signed)
    // Rendered at 72 dpi, one pixel per point: the circle's ring is dark inside the widget rect only.
    execFileSync('pdftoppm', ['-r', '72', '-f', '2', '-l', '2', '-gray', join(dir, 'v.pdf'), join(dir, 'p')])
    const pgm = readFileSync(join(dir, 'p-2.pgm'))
    const [, w, h] = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.toString('latin1', 0, 20)) ?? []
    const pixels = pgm.subarray(pgm.length - Number(w) * Number(h))
    const dark = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if ((pixels[y * Number(w) + x] as number) < 128) n++
      return n
    }
    expect(dark(400, 842 - 180, 520, 842 - 60)).toBeGreaterThan(300)
    expect(dark(0, 842 - 180, 400, 842)).toBe(0)
  })

  test('a rendered licence signed with the drawn seal as its appearance: pdfsig valid, seal ink in place, all checks pass', async () => {
    const font = await loadCjkFont()
    const licence = await renderLicencePdf(
      {
        typeName: '营业执照',
        number: '1.2.156.3005.2.11100000000013338W001.11360700MB1234567R.3607000000000001.001.X',
        holder: { kind: 'enterprise', uscc: withUsccCheck('91360700MA35K0QX2'), name: '赣州市恒信科技有限公司' },
        fields: [{ label: '名称', value: '赣州市恒信科技有限公司' }, { label: '注册资本', value: '伍佰万元整' }],
        validFrom: '2026-11-01',
        validUntil: '2046-10-31',
        issuer: { regionName: '赣州市', authorityName: '赣州市行政审批局' },
        issuedAt: '2026-11-01T02:30:00Z',
        qrPayload: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
        verifyUrl: 'https://tongban.ganzhou.example.cn/verify',
        seal: { ownerName: '赣州市行政审批局', sealName: '行政审批专用章' },
        sealPlacement: 'none',
      },
      font,
    )
    const { x, y, width, height } = licenceSealRect
    const signed = await signPdf(licence, pki.options('alice', {
      reason: '电子证照签发',
      appearance: { page: 0, rect: [x, y, x + width, y + height], draw: (page) => drawSeal(page, { kind: 'official', ownerName: '赣州市行政审批局', sealName: '行政审批专用章' }, font, { x: 0, y: 0, width, height }) },
    }))
    const [block] = signatureBlocks(pdfsig(signed, nss))
    expect(block).toContain('Signature Validation: Signature is Valid.')
    expect(block).toContain('Total document signed')
    await allChecksPass(signed)
    const dir = tempDir()
    writeFileSync(join(dir, 'l.pdf'), signed)
    execFileSync('pdftoppm', ['-r', '72', '-f', '1', '-l', '1', join(dir, 'l.pdf'), join(dir, 'p')])
    const ppm = readFileSync(join(dir, 'p-1.ppm'))
    const [, w, h] = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString('latin1', 0, 20)) ?? []
    const pixels = ppm.subarray(ppm.length - Number(w) * Number(h) * 3)
    const pageHeight = Number(h)
    let red = 0
    for (let py = Math.round(pageHeight - y - height); py < pageHeight - y; py++)
      for (let px = Math.round(x); px < x + width; px++) {
        const i = (py * Number(w) + px) * 3
        if ((pixels[i] as number) > 180 && (pixels[i + 1] as number) < 90 && (pixels[i + 2] as number) < 90) red++
      }
    expect(red).toBeGreaterThan(500)
  })

  test('names the field uniquely and refuses a name already taken', async () => {
    const once = await signPdf(await makePdf(), pki.options('alice'))
    const twice = await signPdf(once, pki.options('bob'))
    expect((await gatherPdfEvidence(twice)).signatures.map((s) => s.fieldName)).toEqual(['Signature1', 'Signature2'])
    await expect(signPdf(twice, pki.options('alice', { fieldName: 'Signature2' }))).rejects.toMatchObject({ code: 'pdf_field_exists', status: 422 })
  })

  test('refuses a page that does not exist, a key that is not the certificate’s, and a non-PDF', async () => {
    const pdf = await makePdf()
    await expect(signPdf(pdf, pki.options('alice', { appearance: { page: 3, rect: [0, 0, 10, 10] } }))).rejects.toMatchObject({ code: 'pdf_page_out_of_range' })
    const mismatched = { ...pki.options('alice'), privateKey: pki.signers.bob.key }
    await expect(signPdf(pdf, mismatched)).rejects.toBeInstanceOf(PdfSigningError)
    await expect(signPdf(pdf, mismatched)).rejects.toMatchObject({ code: 'pdf_signer_key_mismatch' })
    await expect(signPdf(new TextEncoder().encode('hello'), pki.options('alice'))).rejects.toMatchObject({ code: 'pdf_malformed', status: 422 })
  })

  test('failures of the caller’s appearance, key or certificate are 422 errors with stable codes', async () => {
    const pdf = await makePdf()
    const rect: [number, number, number, number] = [10, 10, 110, 110]
    await expect(signPdf(pdf, pki.options('alice', { appearance: { page: 0, rect, image: Uint8Array.of(0x89, 0x50, 1, 2, 3) } }))).rejects.toMatchObject({ code: 'pdf_bad_appearance', status: 422 })
    await expect(signPdf(pdf, pki.options('alice', { appearance: { page: 0, rect, draw: () => { throw new Error('no ink') } } }))).rejects.toMatchObject({ code: 'pdf_bad_appearance' })
    const publicOnly = await crypto.subtle.importKey('spki', pki.signers.alice.certificate.publicKey.rawData, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
    await expect(signPdf(pdf, { ...pki.options('alice'), privateKey: publicOnly })).rejects.toMatchObject({ code: 'pdf_unsupported_key' })
    await expect(signPdf(pdf, { ...pki.options('alice'), certificate: Uint8Array.of(0x30, 0x03, 1, 2, 3) })).rejects.toMatchObject({ code: 'cms_malformed', status: 422 })
  })

  test('a ready one-page PDF (e.g. a seal) becomes the appearance through drawPage', async () => {
    const seal = await PDFDocument.create()
    seal.addPage([100, 100]).drawCircle({ x: 50, y: 50, size: 45, borderWidth: 5 })
    const sealPdf = await seal.save()
    const signed = await signPdf(await makePdf(), pki.options('alice', { appearance: { page: 0, rect: [400, 60, 500, 160], draw: async (page, doc) => { const [embedded] = await doc.embedPdf(sealPdf); if (embedded) page.drawPage(embedded) } } }))
    const [block] = signatureBlocks(pdfsig(signed, nss))
    expect(block).toContain('Signature Validation: Signature is Valid.')
    const state = finalState(signed)
    const widget = state.dict((state.array(state.pages()[0]?.dict.get('Annots')) ?? [])[0])
    const ap = state.dict(state.dict(widget?.get('AP'))?.get('N'))
    const xobjects = state.dict(state.dict(ap?.get('Resources'))?.get('XObject'))
    expect([...(xobjects?.entries.values() ?? [])].map((v) => state.dict(v)?.get('Subtype'))).toEqual([expect.objectContaining({ name: 'Form' })])
    await allChecksPass(signed)
  })

  test('the signature dictionary’s /Contents is a hex string and the gap is exactly it', async () => {
    const signed = await signPdf(await makePdf(), pki.options('alice'))
    const [sig] = (await gatherPdfEvidence(signed)).signatures
    const state = finalState(signed)
    const field = state.dict(state.array(state.dict(state.catalog().dict.get('AcroForm'))?.get('Fields'))?.[0])
    const contents = state.dict(field?.get('V'))?.get('Contents')
    expect(contents).toBeInstanceOf(PdfString)
    expect(sig?.byteRange?.slice(1, 3)).toEqual([(contents as PdfString).start, (contents as PdfString).end])
  })
})
