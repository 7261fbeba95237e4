import { PDFDocument, type PDFEmbeddedPage } from 'pdf-lib'
import type { IssuerIdentity } from '../../core/licence/credential'
import type { Licence } from '../../core/licence/licence'
import { findLicenceType, type LicenceType } from '../../core/licence/licence-types'
import { buildQrClaims, QR_TYP, qrText } from '../../core/licence/qr-payload'
import type { JwsSigner } from '../../core/ports'
import type { PkiEntry } from '../crypto/pki'
import { licenceSealRect, renderLicencePdf, type LicencePdfInput } from './licence-pdf'
import { signPdf } from './pades-sign'
import { drawSeal, renderSealSvg } from './seal-drawing'

export interface LicenceDocumentDeps {
  /** The document signer: it signs the QR payload as it signs the credential. */
  signer: JwsSigner
  issuer: IssuerIdentity
  /** The bureau's seal key and certificate, and the CA chain above it. */
  bureauSeal: PkiEntry
  chain: Uint8Array[]
  loadFont: () => Promise<Uint8Array>
}

/** Field values as printed: text as it is, numbers as numbers, lists of 许可事项 one per line. */
function display(value: unknown): string {
  if (Array.isArray(value)) return value.map(display).join('\n')
  if (value !== null && typeof value === 'object') {
    const { name, authority, licenceNumber } = value as Record<string, unknown>
    if (typeof name === 'string') return `${name}${authority ? `（${String(authority)}）` : ''}${licenceNumber ? ` ${String(licenceNumber)}` : ''}`
    return JSON.stringify(value)
  }
  return String(value)
}

function printedFields(type: LicenceType, licence: Licence) {
  return Object.entries(type.fieldLabels)
    .filter(([name]) => licence.fields[name] !== undefined && licence.fields[name] !== '')
    .map(([name, label]) => ({ label, value: display(licence.fields[name]) }))
}

const BUREAU_SEAL_NAME = '行政审批专用章'

/** The bureau's seal as the page and its signature appearance show it. */
const bureauSeal = (issuer: IssuerIdentity) => ({ ownerName: issuer.name, sealName: BUREAU_SEAL_NAME })

/** What the certificate page shows for a licence: the input renderLicencePdf draws, the seal left for the signature. */
export function licencePdfInput(licence: Licence, type: LicenceType, issuer: IssuerIdentity, qrPayload: string): LicencePdfInput {
  return {
    typeName: type.name,
    number: licence.number,
    holder: licence.holder,
    fields: printedFields(type, licence),
    validFrom: licence.validFrom.toISOString(),
    validUntil: licence.validUntil.toISOString(),
    issuer: { regionName: issuer.regionName, authorityName: issuer.name },
    issuedAt: licence.issuedAt.toISOString(),
    qrPayload,
    verifyUrl: `${issuer.url}/verify`,
    seal: bureauSeal(issuer),
    sealPlacement: 'none',
  }
}

/**
 * The licence PDF: the certificate page with the QR code of a signed payload, then a PAdES
 * signature by the bureau's seal key whose visible appearance is the bureau's red seal. The
 * signature is the last thing in the file, so any later change shows.
 */
export function createLicenceDocuments(deps: LicenceDocumentDeps) {
  const seal = bureauSeal(deps.issuer)
  const rect = licenceSealRect
  let sealAppearance: Promise<Uint8Array> | undefined

  /**
   * The bureau's seal is the same on every licence it signs: it is drawn once per process, as a
   * one-page PDF the size of the seal, and each licence's signature appearance embeds that page.
   */
  function bureauSealPage(fontBytes: Uint8Array): Promise<Uint8Array> {
    sealAppearance ??= (async () => {
      const doc = await PDFDocument.create({ updateMetadata: false })
      drawSeal(doc.addPage([rect.width, rect.height]), { kind: 'official', ...seal }, fontBytes, { x: 0, y: 0, width: rect.width, height: rect.height })
      return doc.save()
    })()
    return sealAppearance
  }

  let sealSvg: Promise<string> | undefined

  return {
    /** The bureau's seal as an image, the one every licence it signs carries: the teller page shows it beside the issuer. */
    bureauSealSvg(): Promise<string> {
      sealSvg ??= deps.loadFont().then((fontBytes) => renderSealSvg({ kind: 'official', ...seal }, fontBytes))
      // A failed font load is not kept: the next request tries again.
      sealSvg.catch(() => (sealSvg = undefined))
      return sealSvg
    },

    async render(licence: Licence): Promise<Uint8Array> {
      const type = findLicenceType(licence.typeKey)
      if (!type) throw new Error(`licence type ${licence.typeKey} is not in the catalogue`)
      const fontBytes = await deps.loadFont()
      const qr = qrText(deps.issuer.url, await deps.signer.sign(buildQrClaims(licence, type, deps.issuer), { typ: QR_TYP }))
      const sealPage = await bureauSealPage(fontBytes)
      const unsigned = await renderLicencePdf(licencePdfInput(licence, type, deps.issuer, qr), fontBytes)
      return signPdf(unsigned, {
        privateKey: deps.bureauSeal.privateKey as CryptoKey,
        certificate: new Uint8Array(deps.bureauSeal.certificate.rawData),
        chain: deps.chain,
        signingTime: licence.issuedAt,
        name: `${deps.issuer.name}${BUREAU_SEAL_NAME}`,
        reason: `${type.name} ${licence.number}`,
        location: deps.issuer.regionName,
        appearance: {
          page: rect.pageIndex,
          rect: [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height],
          draw: async (page, doc) => page.drawPage((await doc.embedPdf(sealPage))[0] as PDFEmbeddedPage),
        },
      })
    },
  }
}

export type LicenceDocuments = ReturnType<typeof createLicenceDocuments>
