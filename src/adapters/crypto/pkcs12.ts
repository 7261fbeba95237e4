import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import forge from 'node-forge'
import { TongbanError } from '../../core/errors'

/**
 * PKCS#12 import. node-forge is the only mature PKCS#12 reader in JavaScript, and it is trusted
 * here with one thing only: decrypting and unpacking the file (its password MAC check included,
 * which is how a wrong password shows). It never verifies a signature and never builds a key
 * object that is used: the private key leaves as PKCS#8 bytes for WebCrypto, certificates as DER,
 * and the key is proved to belong to its certificate by a WebCrypto signature over a random
 * challenge, checked with the certificate's public key, also through WebCrypto.
 */

export type Pkcs12ProblemCode =
  | 'pkcs12_invalid'
  | 'pkcs12_bad_password'
  | 'pkcs12_unsupported'
  | 'pkcs12_no_key'
  | 'pkcs12_no_certificate'
  | 'pkcs12_several_keys'
  | 'pkcs12_unsupported_key'
  | 'pkcs12_key_mismatch'

const STATUS: Record<Pkcs12ProblemCode, number> = {
  pkcs12_invalid: 400,
  pkcs12_bad_password: 422,
  pkcs12_unsupported: 422,
  pkcs12_no_key: 422,
  pkcs12_no_certificate: 422,
  pkcs12_several_keys: 422,
  pkcs12_unsupported_key: 422,
  pkcs12_key_mismatch: 422,
}

export class Pkcs12Error extends TongbanError {
  readonly code: Pkcs12ProblemCode
  readonly status: number
  constructor(code: Pkcs12ProblemCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.code = code
    this.status = STATUS[code]
  }
}

export type Pkcs12Algorithm = 'ES256' | 'RS256'

export interface ImportedPkcs12 {
  /** Usable for signing with `algorithm`; not extractable unless asked for. */
  privateKey: CryptoKey
  algorithm: Pkcs12Algorithm
  /** DER: the certificate of the private key. */
  certificate: Uint8Array
  /** DER: the other certificates in the file, issuer after subject where their names chain. Not verified. */
  chain: Uint8Array[]
}

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  sm2: '1.2.156.10197.1.301',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  rsassaPss: '1.2.840.113549.1.1.10',
} as const

const KEY_NAMES: Record<string, string> = {
  [OID.secp384r1]: 'EC P-384',
  [OID.secp521r1]: 'EC P-521',
  [OID.sm2]: 'SM2',
  [OID.ed25519]: 'Ed25519',
  [OID.ed448]: 'Ed448',
  [OID.rsassaPss]: 'RSASSA-PSS',
}

const MIN_RSA_BITS = 2048

const WEBCRYPTO: Record<Pkcs12Algorithm, { key: RsaHashedImportParams | EcKeyImportParams; sign: AlgorithmIdentifier | EcdsaParams }> = {
  RS256: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
}

const toBinary = (bytes: Uint8Array) => {
  let out = ''
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return out
}
const fromBinary = (binary: string) => Uint8Array.from(binary, (c) => c.charCodeAt(0))
const derOf = (asn1: forge.asn1.Asn1) => fromBinary(forge.asn1.toDer(asn1).getBytes())
const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i])

/**
 * Reads a PKCS#12 (PFX) file: one private key (RSA ≥ 2048 bits, used as RS256, or EC P-256, used
 * as ES256), its certificate and any other certificates. Fails with a {@link Pkcs12Error}.
 */
export async function importPkcs12(p12: Uint8Array, password: string, options: { extractable?: boolean } = {}): Promise<ImportedPkcs12> {
  const pfx = unpack(p12, password)
  const keyBags = [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag].flatMap((type) => pfx.getBags({ bagType: type as string })[type as string] ?? [])
  const certBags = pfx.getBags({ bagType: forge.pki.oids.certBag as string })[forge.pki.oids.certBag as string] ?? []
  if (keyBags.length === 0) throw new Pkcs12Error('pkcs12_no_key', 'the PKCS#12 file holds no private key')
  if (keyBags.length > 1) throw new Pkcs12Error('pkcs12_several_keys', `the PKCS#12 file holds ${keyBags.length} private keys; export the one to import on its own`)
  if (certBags.length === 0) throw new Pkcs12Error('pkcs12_no_certificate', 'the PKCS#12 file holds no certificate')
  const keyBag = keyBags[0] as forge.pkcs12.Bag

  const { algorithm, pkcs8 } = privateKeyInfo(keyBag)
  let privateKey: CryptoKey
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pkcs8 as BufferSource, WEBCRYPTO[algorithm].key, options.extractable ?? false, ['sign'])
  } catch (cause) {
    throw new Pkcs12Error('pkcs12_unsupported_key', `the ${algorithm === 'ES256' ? 'EC' : 'RSA'} private key could not be imported`, { cause })
  }

  const certificates = certBags.map((bag, i) => ({ der: certificateDer(bag, i), localKeyId: localKeyId(bag) }))
  const keyId = localKeyId(keyBag)
  // The certificate named by the key's localKeyId is tried first; any certificate may turn out to be the one.
  const candidates = [...certificates].sort((a, b) => Number(b.localKeyId !== undefined && b.localKeyId === keyId) - Number(a.localKeyId !== undefined && a.localKeyId === keyId))
  const challenge = crypto.getRandomValues(new Uint8Array(32))
  const signature = new Uint8Array(await crypto.subtle.sign(WEBCRYPTO[algorithm].sign, privateKey, challenge))
  let certificate: Uint8Array | undefined
  for (const candidate of candidates) {
    if (await signedBy(candidate.der, algorithm, challenge, signature)) {
      certificate = candidate.der
      break
    }
  }
  if (!certificate) {
    throw new Pkcs12Error('pkcs12_key_mismatch', `the private key belongs to none of the ${certificates.length} certificate(s) in the PKCS#12 file`)
  }
  const leaf = certificate
  return { privateKey, algorithm, certificate: leaf, chain: issuerOrder(leaf, certificates.map((c) => c.der).filter((c) => c !== leaf)) }
}

/** forge decrypts (checking the password MAC) and unpacks; its errors are sorted into ours. */
function unpack(p12: Uint8Array, password: string): forge.pkcs12.Pkcs12Pfx {
  if (!(p12 instanceof Uint8Array) || p12.length === 0) throw new Pkcs12Error('pkcs12_invalid', 'the PKCS#12 file is empty')
  if (typeof password !== 'string') throw new Pkcs12Error('pkcs12_bad_password', 'a PKCS#12 password is a string')
  let asn1: forge.asn1.Asn1
  try {
    asn1 = forge.asn1.fromDer(toBinary(p12), true)
  } catch (cause) {
    throw new Pkcs12Error('pkcs12_invalid', 'not a PKCS#12 file: the data is not DER', { cause })
  }
  try {
    return openPfx(asn1, password)
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause)
    if (/invalid password|wrong password|failed to decrypt/i.test(message)) {
      throw new Pkcs12Error('pkcs12_bad_password', 'the password does not open this PKCS#12 file (or the file was altered: its MAC cannot tell the two apart)', { cause })
    }
    if (/unsupported|not supported/i.test(message)) {
      throw new Pkcs12Error('pkcs12_unsupported', `the PKCS#12 file uses something this reader does not support: ${message}`, { cause })
    }
    throw new Pkcs12Error('pkcs12_invalid', `not a readable PKCS#12 file: ${message}`, { cause })
  }
}

/**
 * OpenSSL derives the MAC key and PKCS#12-PBE keys from the password as a BMPString, but hands
 * PBKDF2 (PBES2, its default since 3.0) the password's UTF-8 bytes; node-forge uses one string
 * for both. With a non-ASCII password, a PBES2 file whose MAC the password opened fails to
 * decrypt (or decrypts to garbage); it is then opened again with the UTF-8 bytes. The MAC is left out of that second
 * pass only because the first pass checked it (forge checks the MAC before it decrypts anything).
 */
function openPfx(asn1: forge.asn1.Asn1, password: string): forge.pkcs12.Pkcs12Pfx {
  try {
    return forge.pkcs12.pkcs12FromAsn1(asn1, true, password)
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : ''
    if (/^[\x00-\x7f]*$/.test(password) || /MAC could not be verified/i.test(message)) throw cause
    const macChecked = forge.asn1.create(asn1.tagClass, asn1.type, asn1.constructed, (asn1.value as forge.asn1.Asn1[]).slice(0, 2))
    return forge.pkcs12.pkcs12FromAsn1(macChecked, true, forge.util.encodeUtf8(password))
  }
}

/**
 * The key as PKCS#8 PrivateKeyInfo bytes. forge builds a key object only for RSA (and gives
 * the decrypted PrivateKeyInfo for anything else); an RSA key is written back as PKCS#8.
 */
function privateKeyInfo(bag: forge.pkcs12.Bag): { algorithm: Pkcs12Algorithm; pkcs8: Uint8Array } {
  if (bag.key) {
    const key = bag.key as forge.pki.rsa.PrivateKey
    if (typeof key.n?.bitLength !== 'function') throw new Pkcs12Error('pkcs12_unsupported_key', 'the private key is of a type this service does not use')
    const bits = key.n.bitLength()
    if (bits < MIN_RSA_BITS) throw new Pkcs12Error('pkcs12_unsupported_key', `the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`)
    return { algorithm: 'RS256', pkcs8: derOf(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))) }
  }
  if (!bag.asn1) throw new Pkcs12Error('pkcs12_no_key', 'the PKCS#12 key bag is empty')
  const pkcs8 = derOf(bag.asn1)
  // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING, … }
  const algorithmIdentifier = (bag.asn1.value as forge.asn1.Asn1[])[1]
  const [oid, parameters] = (algorithmIdentifier?.value ?? []) as forge.asn1.Asn1[]
  const keyOid = oid?.type === forge.asn1.Type.OID ? forge.asn1.derToOid(oid.value as string) : undefined
  const curveOid = parameters?.type === forge.asn1.Type.OID ? forge.asn1.derToOid(parameters.value as string) : undefined
  if (keyOid === OID.ecPublicKey && curveOid === OID.prime256v1) return { algorithm: 'ES256', pkcs8 }
  const name = (keyOid === OID.ecPublicKey ? curveOid && KEY_NAMES[curveOid] : keyOid && KEY_NAMES[keyOid]) ?? `OID ${curveOid ?? keyOid ?? 'unknown'}`
  throw new Pkcs12Error('pkcs12_unsupported_key', `the private key is ${name}; this service imports RSA (RS256) and EC P-256 (ES256) keys`)
}

/**
 * The certificate as DER. forge parses RSA certificates into objects and leaves the others as
 * ASN.1; either way the bytes are re-encoded from the parse, so the result is checked to be an
 * X.509 certificate whose two signature algorithm fields still agree.
 */
function certificateDer(bag: forge.pkcs12.Bag, index: number): Uint8Array {
  let der: Uint8Array
  try {
    der = bag.cert ? derOf(forge.pki.certificateToAsn1(bag.cert)) : bag.asn1 ? derOf(bag.asn1) : new Uint8Array()
  } catch (cause) {
    throw new Pkcs12Error('pkcs12_invalid', `certificate ${index} in the PKCS#12 file cannot be read`, { cause })
  }
  let parsed: Certificate
  try {
    parsed = AsnConvert.parse(der, Certificate)
  } catch (cause) {
    throw new Pkcs12Error('pkcs12_invalid', `certificate ${index} in the PKCS#12 file is not an X.509 certificate`, { cause })
  }
  const outer = new Uint8Array(AsnConvert.serialize(parsed.signatureAlgorithm))
  const inner = new Uint8Array(AsnConvert.serialize(parsed.tbsCertificate.signature))
  if (!equalBytes(outer, inner)) throw new Pkcs12Error('pkcs12_invalid', `certificate ${index} in the PKCS#12 file has inconsistent signature algorithms`)
  return der
}

function localKeyId(bag: forge.pkcs12.Bag): string | undefined {
  const ids = (bag.attributes as Record<string, string[] | undefined>).localKeyId
  return ids?.[0]
}

async function signedBy(certificate: Uint8Array, algorithm: Pkcs12Algorithm, challenge: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    const spki = AsnConvert.serialize(AsnConvert.parse(certificate, Certificate).tbsCertificate.subjectPublicKeyInfo)
    const publicKey = await crypto.subtle.importKey('spki', spki, WEBCRYPTO[algorithm].key, false, ['verify'])
    return await crypto.subtle.verify(WEBCRYPTO[algorithm].sign, publicKey, signature as BufferSource, challenge as BufferSource)
  } catch {
    return false
  }
}

/** Orders certificates issuer after subject by their DER names, starting from the leaf; the rest follow as found. */
function issuerOrder(leaf: Uint8Array, others: Uint8Array[]): Uint8Array[] {
  const named = others.map((der) => {
    const tbs = AsnConvert.parse(der, Certificate).tbsCertificate
    return { der, subject: new Uint8Array(AsnConvert.serialize(tbs.subject)), issuer: new Uint8Array(AsnConvert.serialize(tbs.issuer)) }
  })
  const ordered: Uint8Array[] = []
  let issuer = new Uint8Array(AsnConvert.serialize(AsnConvert.parse(leaf, Certificate).tbsCertificate.issuer))
  for (;;) {
    const next = named.findIndex((c) => equalBytes(c.subject, issuer))
    if (next < 0) break
    const [found] = named.splice(next, 1)
    if (!found) break
    ordered.push(found.der)
    if (equalBytes(found.subject, found.issuer)) break
    issuer = found.issuer
  }
  return [...ordered, ...named.map((c) => c.der)]
}
