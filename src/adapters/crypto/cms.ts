import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { Name } from '@peculiar/asn1-x509'
import {
  Attribute,
  CMSVersion,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms'
import { TongbanError } from '../../core/errors'
import type { CmsEvidence } from '../../core/verification/pdf-checks'
import { concatBytes } from '../bytes'

/**
 * CMS SignedData (RFC 5652) as CAdES baseline B-B needs it (ETSI EN 319 122-1): detached
 * content, signed attributes content-type, message-digest and signing-certificate-v2, and no
 * signing-time (PAdES puts the claimed time in the signature dictionary). Every signature is
 * made and checked through WebCrypto.
 */
export class CmsError extends TongbanError {
  readonly code = 'cms_malformed'
  readonly status = 422
}

/** The private key given for signing does not belong to the signer certificate. */
export class CmsKeyMismatchError extends TongbanError {
  readonly code = 'cms_key_mismatch'
  readonly status = 422
}

export interface CmsSigner {
  privateKey: CryptoKey
  /** DER. */
  certificate: Uint8Array
  /** DER issuing CAs, up to the root. */
  chain: Uint8Array[]
}

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
} as const

type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512'

const HASH_BY_OID: Record<string, HashName> = { [OID.sha1]: 'SHA-1', [OID.sha256]: 'SHA-256', [OID.sha384]: 'SHA-384', [OID.sha512]: 'SHA-512' }
const OID_BY_HASH: Record<HashName, string> = { 'SHA-1': OID.sha1, 'SHA-256': OID.sha256, 'SHA-384': OID.sha384, 'SHA-512': OID.sha512 }

const SIGNATURE_ALGORITHMS: Record<string, { family: 'ECDSA' | 'RSASSA-PKCS1-v1_5'; hash?: HashName }> = {
  [OID.ecdsaWithSha256]: { family: 'ECDSA', hash: 'SHA-256' },
  [OID.ecdsaWithSha384]: { family: 'ECDSA', hash: 'SHA-384' },
  [OID.ecdsaWithSha512]: { family: 'ECDSA', hash: 'SHA-512' },
  [OID.ecPublicKey]: { family: 'ECDSA' },
  [OID.sha256WithRsa]: { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  [OID.sha384WithRsa]: { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  [OID.sha512WithRsa]: { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  [OID.rsaEncryption]: { family: 'RSASSA-PKCS1-v1_5' },
}

const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 }
const CURVE_HASH: Record<string, HashName> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }

const buf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer

// --- a little DER, for what asn1-cms has no class for (ESS attributes) and for exact byte spans

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(content)
  return concatBytes([Uint8Array.of(tag), derLength(body.length), body])
}

function derOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number)
  const out: number[] = [(arcs[0] as number) * 40 + (arcs[1] as number)]
  for (const arc of arcs.slice(2)) {
    const group: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80)
    out.push(...group)
  }
  return der(0x06, Uint8Array.from(out))
}


interface Tlv {
  tag: number
  /** Offset of the tag byte. */
  start: number
  /** Offset of the content. */
  body: number
  end: number
}

function readTlv(bytes: Uint8Array, at: number, limit = bytes.length): Tlv {
  const tag = bytes[at]
  let lengthByte = bytes[at + 1]
  if (tag === undefined || lengthByte === undefined || (tag & 0x1f) === 0x1f) throw new CmsError('DER element truncated or with a multi-byte tag')
  let body = at + 2
  let length = lengthByte
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f
    if (count === 0 || count > 4) throw new CmsError('DER length is indefinite or too long')
    length = 0
    for (let i = 0; i < count; i++) {
      lengthByte = bytes[body++]
      if (lengthByte === undefined) throw new CmsError('DER length truncated')
      length = length * 256 + lengthByte
    }
  }
  const end = body + length
  if (end > limit) throw new CmsError('DER element runs past its container')
  return { tag, start: at, body, end }
}

function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.body; at < parent.end; ) {
    const tlv = readTlv(bytes, at, parent.end)
    out.push(tlv)
    at = tlv.end
    if (out.length > 10_000) throw new CmsError('too many DER elements')
  }
  return out
}

/** The length of the first DER element; PDF /Contents pads the CMS with zeros after it. */
export function derElementLength(bytes: Uint8Array): number {
  return readTlv(bytes, 0).end
}

// --- ECDSA: CMS carries DER (r, s), WebCrypto speaks fixed-size r || s

function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2
  const int = (v: Uint8Array) => {
    let i = 0
    while (i < v.length - 1 && v[i] === 0) i++
    const trimmed = v.subarray(i)
    return der(0x02, (trimmed[0] as number) & 0x80 ? concatBytes([Uint8Array.of(0), trimmed]) : trimmed)
  }
  return der(0x30, int(raw.subarray(0, half)), int(raw.subarray(half)))
}

function ecdsaDerToRaw(sig: Uint8Array, curveBits: number): Uint8Array {
  const size = Math.ceil(curveBits / 8)
  const seq = readTlv(sig, 0)
  if (seq.tag !== 0x30 || seq.end !== sig.length) throw new CmsError('ECDSA signature is not one DER SEQUENCE')
  const ints = children(sig, seq)
  if (ints.length !== 2 || ints.some((t) => t.tag !== 0x02)) throw new CmsError('ECDSA signature is not two INTEGERs')
  const out = new Uint8Array(size * 2)
  ints.forEach((t, k) => {
    let v = sig.subarray(t.body, t.end)
    while (v.length > size && v[0] === 0) v = v.subarray(1)
    if (v.length > size) throw new CmsError('ECDSA signature integer too large for the curve')
    out.set(v, (k + 1) * size - v.length)
  })
  return out
}

// --- certificates, read with the DER walker: the bytes stay exactly as issued, and it is fast

interface CertificateFacts {
  der: Uint8Array
  /** INTEGER content octets. */
  serial: Uint8Array
  /** The issuer Name, whole TLV. */
  issuer: Uint8Array
  /** SubjectPublicKeyInfo, whole TLV. */
  spki: Uint8Array
  /** Curve OID TLV for EC keys. */
  curve: Uint8Array | null
  subjectKeyIdentifier: Uint8Array | null
}

function certificateFacts(der: Uint8Array): CertificateFacts {
  const top = readTlv(der, 0)
  if (top.tag !== 0x30 || top.end !== der.length) throw new CmsError('a certificate is not one DER SEQUENCE')
  const tbs = children(der, top)[0] ?? fail('certificate without tbsCertificate')
  const fields = children(der, tbs)
  const at = fields[0]?.tag === 0xa0 ? 1 : 0
  const [serial, , issuer, , , spki] = fields.slice(at)
  if (!serial || serial.tag !== 0x02 || !issuer || !spki || spki.tag !== 0x30) throw new CmsError('certificate tbsCertificate is malformed')
  const algorithm = children(der, children(der, spki)[0] ?? fail('SPKI without algorithm'))
  const curve = algorithm[1]?.tag === 0x06 ? der.subarray(algorithm[1].start, algorithm[1].end) : null
  let subjectKeyIdentifier: Uint8Array | null = null
  const extensions = fields.find((f) => f.tag === 0xa3)
  for (const ext of extensions ? children(der, children(der, extensions)[0] ?? fail('empty extensions')) : []) {
    const parts = children(der, ext)
    const id = parts[0]
    const value = parts.at(-1)
    if (id && value && equalBytes(der.subarray(id.start, id.end), derOid('2.5.29.14'))) {
      const inner = readTlv(der, value.body, value.end)
      subjectKeyIdentifier = der.subarray(inner.body, inner.end)
    }
  }
  return { der, serial: der.subarray(serial.body, serial.end), issuer: der.subarray(issuer.start, issuer.end), spki: der.subarray(spki.start, spki.end), curve, subjectKeyIdentifier }
}

/** Imported public keys by SPKI: importing costs more than verifying, and signers repeat. */
const keyCache = new Map<string, CryptoKey>()
const KEY_CACHE_SIZE = 256

async function publicKey(cert: CertificateFacts, family: 'ECDSA' | 'RSASSA-PKCS1-v1_5', hash: HashName): Promise<{ key: CryptoKey; curveBits: number }> {
  const curves: [string, string][] = [['1.2.840.10045.3.1.7', 'P-256'], ['1.3.132.0.34', 'P-384'], ['1.3.132.0.35', 'P-521']]
  const curve = family === 'ECDSA' ? curves.find(([oid]) => cert.curve && equalBytes(derOid(oid), cert.curve))?.[1] : undefined
  if (family === 'ECDSA' && !curve) throw new CmsError('signer key is not on P-256, P-384 or P-521')
  const algorithm = curve ? { name: 'ECDSA', namedCurve: curve } : { name: family, hash }
  const id = `${algorithm.name}/${hash}/${Array.from(cert.spki, (b) => b.toString(16).padStart(2, '0')).join('')}`
  let key = keyCache.get(id)
  if (!key) {
    key = await crypto.subtle.importKey('spki', cert.spki as BufferSource, algorithm, false, ['verify'])
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string)
    keyCache.set(id, key)
  }
  return { key, curveBits: curve ? (CURVE_BITS[curve] as number) : 0 }
}

// --- signing

function signatureAlgorithmFor(key: CryptoKey): { hash: HashName; family: 'ECDSA' | 'RSASSA-PKCS1-v1_5'; algorithm: SignatureAlgorithmIdentifier } {
  const alg = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  if (alg.name === 'ECDSA' && alg.namedCurve && CURVE_HASH[alg.namedCurve]) {
    const hash = CURVE_HASH[alg.namedCurve] as HashName
    const oid = { 'SHA-256': OID.ecdsaWithSha256, 'SHA-384': OID.ecdsaWithSha384, 'SHA-512': OID.ecdsaWithSha512 }[hash as 'SHA-256']
    return { hash, family: 'ECDSA', algorithm: new SignatureAlgorithmIdentifier({ algorithm: oid }) }
  }
  if (alg.name === 'RSASSA-PKCS1-v1_5' && alg.hash && ['SHA-256', 'SHA-384', 'SHA-512'].includes(alg.hash.name)) {
    const hash = alg.hash.name as HashName
    const oid = { 'SHA-256': OID.sha256WithRsa, 'SHA-384': OID.sha384WithRsa, 'SHA-512': OID.sha512WithRsa }[hash as 'SHA-256']
    return { hash, family: 'RSASSA-PKCS1-v1_5', algorithm: new SignatureAlgorithmIdentifier({ algorithm: oid, parameters: buf(Uint8Array.of(5, 0)) }) }
  }
  throw new CmsError(`unsupported signing key: ${alg.name}${alg.namedCurve ? ' ' + alg.namedCurve : ''}; use ECDSA P-256/384/521 or RSASSA-PKCS1-v1_5 with SHA-2`)
}

/** The hash a signer's key implies (SHA-256 for ES256), so the caller can digest the content once. */
export function digestAlgorithmFor(key: CryptoKey): HashName {
  return signatureAlgorithmFor(key).hash
}

/** ESS signing-certificate-v2 (RFC 5035) binding the signer certificate by hash, issuer and serial. */
async function signingCertificateV2(cert: CertificateFacts, hash: HashName): Promise<Uint8Array> {
  const certHash = new Uint8Array(await crypto.subtle.digest(hash, cert.der as BufferSource))
  const issuerSerial = der(0x30, der(0x30, der(0xa4, cert.issuer)), der(0x02, cert.serial))
  const hashAlgorithm = hash === 'SHA-256' ? [] : [der(0x30, derOid(OID_BY_HASH[hash]))]
  return der(0x30, der(0x30, der(0x30, ...hashAlgorithm, der(0x04, certHash), issuerSerial)))
}

/**
 * Signs a message digest (computed by the caller over the PDF byte ranges) as detached CMS.
 * Certificates are embedded byte for byte as given. The signature is checked against the
 * certificate's key before it is returned, so a key that does not belong to the certificate
 * never yields a PDF that only fails later, at the verifier.
 */
export async function signDetachedCms(digest: Uint8Array, signer: CmsSigner): Promise<Uint8Array> {
  const { hash, family, algorithm } = signatureAlgorithmFor(signer.privateKey)
  const cert = certificateFacts(signer.certificate)
  const chain = signer.chain.map(certificateFacts)
  const attributes = [
    new Attribute({ attrType: OID.contentType, attrValues: [buf(derOid(OID.data))] }),
    new Attribute({ attrType: OID.messageDigest, attrValues: [buf(der(0x04, digest))] }),
    new Attribute({ attrType: OID.signingCertificateV2, attrValues: [buf(await signingCertificateV2(cert, hash))] }),
  ]
  // DER orders SET OF by encoding; the bytes signed must be the bytes sent.
  const encoded = attributes.map((a) => new Uint8Array(AsnConvert.serialize(a))).sort(compareBytes)
  const signedAttrsSet = der(0x31, ...encoded)
  const params = family === 'ECDSA' ? { name: 'ECDSA', hash } : { name: family }
  const signature = new Uint8Array(await crypto.subtle.sign(params, signer.privateKey, signedAttrsSet as BufferSource))
  const { key } = await publicKey(cert, family, hash)
  if (!(await crypto.subtle.verify(params, key, signature as BufferSource, signedAttrsSet as BufferSource))) throw new CmsKeyMismatchError('the private key does not match the signer certificate')
  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: AsnConvert.parse(cert.issuer, Name), serialNumber: buf(cert.serial) }) }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: OID_BY_HASH[hash] }),
    signedAttrs: encoded.map((a) => AsnConvert.parse(a, Attribute)),
    signatureAlgorithm: algorithm,
    signature: new OctetString(buf(family === 'ECDSA' ? ecdsaRawToDer(signature) : signature)),
  })
  const signedData = new Uint8Array(
    AsnConvert.serialize(
      new SignedData({
        version: CMSVersion.v1,
        digestAlgorithms: new DigestAlgorithmIdentifiers([new DigestAlgorithmIdentifier({ algorithm: OID_BY_HASH[hash] })]),
        encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID.data }),
        signerInfos: new SignerInfos([signerInfo]),
      }),
    ),
  )
  // The certificates go in as received ([0] IMPLICIT SET OF), just before signerInfos.
  const parts = children(signedData, readTlv(signedData, 0)).map((t) => signedData.subarray(t.start, t.end))
  const certificates = der(0xa0, cert.der, ...chain.map((c) => c.der))
  const withCertificates = der(0x30, ...parts.slice(0, -1), certificates, parts.at(-1) as Uint8Array)
  return der(0x30, derOid(OID.signedData), der(0xa0, withCertificates))
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

// --- verification

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i])

function emptyEvidence(): CmsEvidence {
  return {
    parsed: false,
    problem: null,
    signerCertificate: null,
    certificates: [],
    digestAlgorithm: null,
    signatureAlgorithm: null,
    encapsulatedContentType: null,
    detached: false,
    signedAttributes: [],
    messageDigestMatches: false,
    signatureValid: false,
    signingCertificate: 'absent',
    hasSigningTimeAttribute: false,
    timestamp: null,
  }
}

/**
 * Gathers the facts about a detached CMS SignedData over `content` (or over a digest of it the
 * caller already has). Never throws for bad input: what could not be established is false and
 * `problem` says why.
 */
export async function verifyDetachedCms(cms: Uint8Array, covered: { content: Uint8Array } | { digest: Uint8Array }): Promise<CmsEvidence> {
  const evidence = emptyEvidence()
  try {
    if (await gather(cms, covered, evidence)) {
      // Its message-digest is over the encapsulated content, not over what the caller covers.
      evidence.messageDigestMatches = false
      throw new CmsError('the CMS encapsulates content: a detached signature was expected')
    }
  } catch (cause) {
    evidence.problem = cause instanceof Error ? cause.message : String(cause)
  }
  return evidence
}

/**
 * Gathers the facts about an RFC 3161 timestamp token over `content` (a PAdES document
 * timestamp): the token is a SignedData over its encapsulated TSTInfo, whose message imprint
 * must be the digest of `content`.
 */
export async function verifyTimestampToken(token: Uint8Array, content: Uint8Array): Promise<CmsEvidence> {
  const evidence = emptyEvidence()
  try {
    const tstInfo = await gather(token, { content: new Uint8Array() }, evidence)
    if (!tstInfo || evidence.encapsulatedContentType !== OID.tstInfo) throw new CmsError('not a timestamp token: no encapsulated TSTInfo')
    evidence.timestamp = await tstInfoFacts(tstInfo, content)
  } catch (cause) {
    evidence.problem = cause instanceof Error ? cause.message : String(cause)
  }
  return evidence
}

/** TSTInfo (RFC 3161 §2.4.2): the message imprint against `content`, and genTime. */
async function tstInfoFacts(tst: Uint8Array, content: Uint8Array): Promise<NonNullable<CmsEvidence['timestamp']>> {
  const top = readTlv(tst, 0)
  if (top.tag !== 0x30 || top.end !== tst.length) throw new CmsError('TSTInfo is not one SEQUENCE')
  const [, , imprint, , genTime] = children(tst, top)
  if (!imprint || imprint.tag !== 0x30 || !genTime || genTime.tag !== 0x18) throw new CmsError('TSTInfo lacks messageImprint or genTime')
  const [algorithm, hashed] = children(tst, imprint)
  const oid = algorithm && children(tst, algorithm)[0]
  const hash = oid ? HASH_BY_OID[oidString(tst.subarray(oid.body, oid.end))] : undefined
  if (!hash || !hashed || hashed.tag !== 0x04) throw new CmsError('TSTInfo message imprint uses an unknown hash')
  const expected = new Uint8Array(await crypto.subtle.digest(hash, content as BufferSource))
  const time = new TextDecoder().decode(tst.subarray(genTime.body, genTime.end)).match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/)
  const date = time ? new Date(`${time[1]}-${time[2]}-${time[3]}T${time[4]}:${time[5]}:${time[6]}${time[7] ?? ''}Z`) : null
  return { genTime: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null, imprintMatches: equalBytes(tst.subarray(hashed.body, hashed.end), expected), imprintAlgorithm: hash }
}

/**
 * The structure is walked as DER (exact bytes, microseconds); only the SignerInfo goes through
 * asn1-cms, whose generic parser costs milliseconds on whole certificate sets. Returns the
 * encapsulated content when there is one: then message-digest is over it, not over `covered`.
 */
async function gather(cms: Uint8Array, covered: { content: Uint8Array } | { digest: Uint8Array }, evidence: CmsEvidence): Promise<Uint8Array | null> {
  const outer = readTlv(cms, 0)
  if (outer.tag !== 0x30 || outer.end !== cms.length) throw new CmsError('not one DER ContentInfo')
  const [type, explicit] = children(cms, outer)
  if (!type || !equalBytes(cms.subarray(type.start, type.end), derOid(OID.signedData)) || explicit?.tag !== 0xa0) throw new CmsError('ContentInfo is not SignedData')
  const sd = children(cms, explicit)[0]
  if (!sd || sd.tag !== 0x30) throw new CmsError('SignedData is not a SEQUENCE')
  const fields = children(cms, sd)
  const eci = fields[2]
  const infos = fields.at(-1)
  if (!eci || eci.tag !== 0x30 || !infos || infos.tag !== 0x31 || fields.length < 4) throw new CmsError('SignedData is missing encapContentInfo or signerInfos')
  const eciParts = children(cms, eci)
  const eType = eciParts[0]
  if (!eType || eType.tag !== 0x06) throw new CmsError('encapContentInfo has no content type')
  evidence.encapsulatedContentType = oidString(cms.subarray(eType.body, eType.end))
  evidence.detached = eciParts.length === 1
  let encapsulated: Uint8Array | null = null
  if (eciParts[1]) {
    const octets = children(cms, eciParts[1])[0]
    if (eciParts[1].tag !== 0xa0 || !octets || octets.tag !== 0x04) throw new CmsError('eContent is not an OCTET STRING')
    encapsulated = cms.subarray(octets.body, octets.end)
  }
  const certSet = fields.slice(3, -1).find((f) => f.tag === 0xa0)
  const certificates = (certSet ? children(cms, certSet) : []).filter((c) => c.tag === 0x30).map((c) => certificateFacts(cms.slice(c.start, c.end)))
  evidence.certificates = certificates.map((c) => c.der)
  const signerInfos = children(cms, infos)
  if (signerInfos.length !== 1) throw new CmsError(`expected exactly one SignerInfo, found ${signerInfos.length}`)
  const rawInfo = signerInfos[0] as Tlv
  let signerInfo: SignerInfo
  try {
    signerInfo = AsnConvert.parse(cms.subarray(rawInfo.start, rawInfo.end), SignerInfo)
  } catch (cause) {
    throw new CmsError('SignerInfo is malformed', { cause })
  }
  evidence.parsed = true
  const hash = HASH_BY_OID[signerInfo.digestAlgorithm.algorithm]
  evidence.digestAlgorithm = hash ?? signerInfo.digestAlgorithm.algorithm
  const sigAlg = SIGNATURE_ALGORITHMS[signerInfo.signatureAlgorithm.algorithm]
  const sigHash = sigAlg?.hash ?? hash
  evidence.signatureAlgorithm = sigAlg && sigHash ? `${sigAlg.family} with ${sigHash}` : signerInfo.signatureAlgorithm.algorithm

  const infoParts = children(cms, rawInfo)
  const sid = infoParts[1] ?? fail('SignerInfo has no sid')
  const signer = certificates.find((c) => identifies(cms, sid, c))
  if (!signer) throw new CmsError('the signer certificate is not among the CMS certificates')
  evidence.signerCertificate = signer.der

  const attrs = signerInfo.signedAttrs
  const rawAttrs = infoParts[3]
  if (!attrs || rawAttrs?.tag !== 0xa0) throw new CmsError('no signed attributes: CAdES requires them')
  evidence.signedAttributes = attrs.map((a) => a.attrType)
  evidence.hasSigningTimeAttribute = attrs.some((a) => a.attrType === OID.signingTime)
  const single = (oid: string) => {
    const found = attrs.filter((a) => a.attrType === oid)
    if (found.length > 1 || (found[0] && found[0].attrValues.length !== 1)) throw new CmsError(`signed attribute ${oid} must occur once with one value`)
    return found[0] ? new Uint8Array(found[0].attrValues[0] as ArrayBuffer) : undefined
  }
  const contentType = single(OID.contentType)
  if (!contentType || !equalBytes(contentType, cms.subarray(eType.start, eType.end))) throw new CmsError('content-type attribute missing or not the encapsulated content type')
  if (!hash) throw new CmsError(`unsupported digest algorithm ${signerInfo.digestAlgorithm.algorithm}`)

  const messageDigest = single(OID.messageDigest)
  const target = encapsulated ? { content: encapsulated } : covered
  const digest = 'digest' in target ? target.digest : new Uint8Array(await crypto.subtle.digest(hash, target.content as BufferSource))
  if (messageDigest) {
    const md = readTlv(messageDigest, 0)
    evidence.messageDigestMatches = md.tag === 0x04 && md.end === messageDigest.length && equalBytes(messageDigest.subarray(md.body, md.end), digest)
  }

  evidence.signingCertificate = await matchSigningCertificate(single(OID.signingCertificateV2), single(OID.signingCertificate), signer)

  if (!sigAlg || !sigHash) throw new CmsError(`unsupported signature algorithm ${signerInfo.signatureAlgorithm.algorithm}`)
  // The signature is over the attributes exactly as received, re-tagged as a SET (RFC 5652 §5.4).
  const toVerify = cms.slice(rawAttrs.start, rawAttrs.end)
  toVerify[0] = 0x31
  const { key, curveBits } = await publicKey(signer, sigAlg.family, sigHash)
  const signature = new Uint8Array(signerInfo.signature.buffer)
  evidence.signatureValid =
    sigAlg.family === 'ECDSA'
      ? await crypto.subtle.verify({ name: 'ECDSA', hash: sigHash }, key, ecdsaDerToRaw(signature, curveBits) as BufferSource, toVerify)
      : await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature as BufferSource, toVerify)
  return encapsulated
}

function identifies(cms: Uint8Array, sid: Tlv, cert: CertificateFacts): boolean {
  if (sid.tag === 0x30) {
    const [issuer, serial] = children(cms, sid)
    return issuer !== undefined && serial?.tag === 0x02 && equalBytes(cms.subarray(serial.body, serial.end), cert.serial) && equalBytes(cms.subarray(issuer.start, issuer.end), cert.issuer)
  }
  return sid.tag === 0x80 && cert.subjectKeyIdentifier !== null && equalBytes(cms.subarray(sid.body, sid.end), cert.subjectKeyIdentifier)
}

/** Compares the first ESSCertID(v2) with the signer certificate: hash, and issuer/serial when present. */
async function matchSigningCertificate(v2: Uint8Array | undefined, v1: Uint8Array | undefined, signer: CertificateFacts): Promise<CmsEvidence['signingCertificate']> {
  const value = v2 ?? v1
  if (!value) return 'absent'
  const top = readTlv(value, 0)
  const certs = children(value, children(value, top)[0] ?? fail('empty signing-certificate attribute'))
  const first = certs[0] ?? fail('no ESSCertID in signing-certificate attribute')
  const fields = children(value, first)
  let hash: HashName = v2 ? 'SHA-256' : 'SHA-1'
  let i = 0
  if (v2 && fields[0]?.tag === 0x30) {
    const alg = children(value, fields[0])[0] ?? fail('empty hash algorithm')
    const name = HASH_BY_OID[oidString(value.subarray(alg.body, alg.end))]
    if (!name) return 'mismatch'
    hash = name
    i = 1
  }
  const certHash = fields[i]
  if (!certHash || certHash.tag !== 0x04) fail('ESSCertID has no certHash')
  const expected = new Uint8Array(await crypto.subtle.digest(hash, signer.der as BufferSource))
  if (!equalBytes(value.subarray(certHash.body, certHash.end), expected)) return 'mismatch'
  const issuerSerial = fields[i + 1]
  if (issuerSerial) {
    const [names, serial] = children(value, issuerSerial)
    const serialOk = serial !== undefined && equalBytes(value.subarray(serial.body, serial.end), signer.serial)
    const issuerOk = names !== undefined && children(value, names).some((n) => n.tag === 0xa4 && equalBytes(value.subarray(n.body, n.end), signer.issuer))
    if (!serialOk || !issuerOk) return 'mismatch'
  }
  return 'match'
}

function fail(message: string): never {
  throw new CmsError(message)
}

function oidString(bytes: Uint8Array): string {
  const arcs: number[] = []
  let v = 0
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f)
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80)
      else arcs.push(v)
      v = 0
    }
  }
  return arcs.join('.')
}
