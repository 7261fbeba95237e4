import { SEAL_SIZE_MM, type Seal, type SealPlacement } from '../../core/seal/seal'
import { ValidationError } from '../../core/errors'
import { unwrapPrivateKey } from '../crypto/key-wrap'
import { fromBase64 } from '../crypto/x509'
import { signPdf } from './pades-sign'
import { PdfFile } from './pdf-file'
import { drawSeal, MM } from './seal-drawing'

const MARGIN = 56

function pageBox(file: PdfFile, index: number): [number, number] {
  const state = file.stateAt(file.lastMarker)
  const pages = state.pages()
  if (index < 0 || index >= pages.length) {
    throw new ValidationError('invalid_seal_position', `page ${index + 1} does not exist; the document has ${pages.length}`, [{ pointer: '/page', message: 'no such page' }])
  }
  const box = state.array((pages[index] as { dict: { get(name: string): unknown } }).dict.get('MediaBox') as never)
  const numbers = (box ?? []).map((v) => (typeof v === 'number' ? v : NaN))
  const [x1, y1, x2, y2] = numbers.length === 4 && numbers.every(Number.isFinite) ? numbers as [number, number, number, number] : [0, 0, 595.28, 841.89]
  return [x2 - x1, y2 - y1]
}

function pageCount(file: PdfFile): number {
  return file.stateAt(file.lastMarker).pages().length
}

/**
 * Seals a PDF: the seal's image is the visible appearance of a PAdES signature made with the
 * seal's own key, appended as an incremental update so earlier seals on the document stay valid.
 */
export async function sealPdf(input: {
  pdf: Uint8Array
  seal: Seal
  wrappedKey: string
  kek: CryptoKey
  fontBytes: Uint8Array
  placement: SealPlacement
  reason?: string
  now: Date
}): Promise<Uint8Array> {
  const { seal, placement } = input
  const file = new PdfFile(input.pdf)
  const index = (placement.page ?? pageCount(file)) - 1
  const [pageWidth, pageHeight] = pageBox(file, index)
  const [defaultWidth, defaultHeight] = SEAL_SIZE_MM[seal.kind]
  const width = (placement.sizeMm ?? defaultWidth) * MM
  const height = (placement.sizeMm ? (placement.sizeMm * defaultHeight) / defaultWidth : defaultHeight) * MM
  const x = placement.x ?? pageWidth - MARGIN - width
  const y = placement.y ?? MARGIN
  if (x < 0 || y < 0 || x + width > pageWidth + 0.01 || y + height > pageHeight + 0.01) {
    throw new ValidationError('invalid_seal_position', `the seal (${width.toFixed(0)} × ${height.toFixed(0)} pt at ${x.toFixed(0)}, ${y.toFixed(0)}) does not fit on the ${pageWidth.toFixed(0)} × ${pageHeight.toFixed(0)} pt page`, [
      { pointer: '/x', message: 'outside the page' },
    ])
  }
  const privateKey = await unwrapPrivateKey(input.kek, input.wrappedKey, seal.id, seal.algorithm)
  const spec = { kind: seal.kind, ownerName: seal.kind === 'legal_representative' ? seal.name : seal.owner.name, uscc: seal.owner.uscc }
  return signPdf(input.pdf, {
    privateKey,
    certificate: fromBase64(seal.certificate),
    chain: seal.chain.map(fromBase64),
    signingTime: input.now,
    name: seal.name,
    reason: input.reason ?? `${seal.name} 电子印章`,
    appearance: {
      page: index,
      rect: [x, y, x + width, y + height],
      draw: (page) => drawSeal(page, spec, input.fontBytes, { x: 0, y: 0, width, height }),
    },
  })
}
