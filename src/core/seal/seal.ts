import type { SealKind } from './seal-appearance'

export type { SealKind }

export const SEAL_KINDS: readonly SealKind[] = ['official', 'finance', 'invoice', 'contract', 'legal_representative']

/** The three seals an enterprise receives free at opening (企业开办): 公章, 财务专用章, 发票专用章. */
export const OPENING_SET: readonly SealKind[] = ['official', 'finance', 'invoice']

export const SEAL_KIND_NAMES: Record<SealKind, string> = {
  official: '公章',
  finance: '财务专用章',
  invoice: '发票专用章',
  contract: '合同专用章',
  legal_representative: '法定代表人名章',
}

/** Customary sizes in millimetres (width, height): 42 mm round seals, 40 × 30 mm ovals, 20 mm name seals. */
export const SEAL_SIZE_MM: Record<SealKind, readonly [number, number]> = {
  official: [42, 42],
  contract: [42, 42],
  finance: [40, 30],
  invoice: [40, 30],
  legal_representative: [20, 20],
}

export type SealStatus = 'active' | 'revoked'

export interface Seal {
  id: string
  kind: SealKind
  owner: { uscc: string; name: string }
  /** The name carved on the seal: the enterprise's name, with the kind for special-purpose seals; a person's name for 名章. */
  name: string
  status: SealStatus
  statusReason: string | null
  /** Whose key: one the service made for the seal, or one the enterprise brought as PKCS#12. */
  keySource: 'service' | 'pkcs12'
  algorithm: 'ES256' | 'RS256'
  /** DER certificate of the seal's key, then its issuing chain (base64 DER). */
  certificate: string
  chain: string[]
  certificateSha256: string
  /** DER of the SES_Seal structure (GB/T 38540 model), base64. */
  sesSeal: string
  imageSvg: string
  validFrom: Date
  validUntil: Date
  createdAt: Date
}

export interface SealUse {
  sealId: string
  actor: string
  purpose: string
  documentSha256: string
  signedSha256: string
  at: Date
}

/** The name carved on a seal of this kind. */
export function sealName(kind: SealKind, enterpriseName: string, personName?: string): string {
  if (kind === 'official') return enterpriseName
  if (kind === 'legal_representative') return personName ?? ''
  return `${enterpriseName}${SEAL_KIND_NAMES[kind]}`
}

export interface SealPlacement {
  /** 1-based; the last page when absent. */
  page?: number
  /** Lower-left corner of the seal in PDF points; the bottom-right corner of the page when absent. */
  x?: number
  y?: number
  /** Diameter (or width) of the seal in millimetres; the customary size of its kind when absent. */
  sizeMm?: number
}

/** Puts a seal on a PDF: its image visible at the placement, its key's PAdES signature over the whole file. */
export interface PdfSealer {
  seal(seal: Seal, pdf: Uint8Array, placement: SealPlacement, reason?: string): Promise<Uint8Array>
}
