import { sha256Hex } from '../digest'

/**
 * Consent codes are read aloud across a bank counter and typed by a teller, so the alphabet
 * leaves out what is misheard or misread: 0/O, 1/I/L, and U (Crockford's base 32 without 0 and
 * 1). Twelve characters of thirty are 58.9 bits (30^12 ≈ 5.3 × 10^17): with ten wrong guesses
 * per bank per quarter hour (bank-check.ts), a bank guessing at a million live codes at once
 * would expect its first hit after about 1.5 million years.
 */
export const CONSENT_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ'
export const CONSENT_CODE_LENGTH = 12

/** A fresh code, grouped in fours for reading aloud: `7K4M-XQ2P-9DHR`. */
export function newConsentCode(): string {
  const chars: string[] = []
  // Rejection sampling: 240 is the largest multiple of 30 below 256, so every character is equally likely.
  while (chars.length < CONSENT_CODE_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(CONSENT_CODE_LENGTH * 2))) {
      if (byte < 240 && chars.length < CONSENT_CODE_LENGTH) chars.push(CONSENT_CODE_ALPHABET[byte % 30] as string)
    }
  }
  return chars.join('').replace(/(.{4})(?=.)/g, '$1-')
}

/** What the QR code on the holder's phone says: a scanner at the counter types it into the teller page. */
export function consentQrText(code: string): string {
  return `tongban-consent:${code}`
}

/**
 * The code a teller typed or scanned, as stored: the part after a `tongban-consent:` prefix,
 * upper case, without spaces or dashes. Anything else is kept, so that a mistyped code is simply
 * not found.
 */
export function normaliseConsentCode(input: string): string {
  const text = input.trim()
  const marker = text.toLowerCase().lastIndexOf('tongban-consent:')
  const code = marker >= 0 ? text.slice(marker + 'tongban-consent:'.length) : text
  return code.toUpperCase().replace(/[\s-]+/g, '')
}

/** Codes are looked up by this hash; the code itself is never stored. */
export const consentCodeHash = (code: string) => sha256Hex(`consent:${normaliseConsentCode(code)}`)
