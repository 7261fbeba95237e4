import { LICENCE_QR_INFO_KEY } from './licence-pdf'
import { PdfFile } from './pdf-file'
import { decodeTextString } from './pdf-syntax'

/**
 * The QR text a licence PDF carries in its document information, read from the revision a
 * signature covers (never from a later update, which could have replaced it). Null when that
 * revision has none or cannot be read.
 */
export function embeddedLicenceQr(pdf: Uint8Array, revisionEnd: number): string | null {
  try {
    const file = new PdfFile(pdf)
    const marker = file.markers.find((m) => m.end === revisionEnd)
    if (!marker) return null
    const state = file.stateAt(marker)
    const info = state.dict(state.trailer.get('Info'))
    return decodeTextString(info?.get(LICENCE_QR_INFO_KEY)) ?? null
  } catch {
    return null
  }
}
