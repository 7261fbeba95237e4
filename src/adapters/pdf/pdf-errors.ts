import { TongbanError } from '../../core/errors'

/** The bytes are not a PDF we can read: broken syntax, cross-reference or structure. */
export class PdfFormatError extends TongbanError {
  readonly code = 'pdf_malformed'
  readonly status = 422
}

/** A PDF that is well formed but cannot be signed as asked (encrypted, no such page, wrong key). */
export class PdfSigningError extends TongbanError {
  readonly code: string
  readonly status = 422
  constructor(code: 'pdf_encrypted' | 'pdf_page_out_of_range' | 'pdf_field_exists' | 'pdf_bad_appearance' | 'pdf_signer_key_mismatch' | 'pdf_signature_too_large' | 'pdf_unsupported_key' | 'pdf_certified_no_changes', message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.code = code
  }
}
