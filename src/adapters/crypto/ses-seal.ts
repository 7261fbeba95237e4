import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import { TongbanError, type ProblemDetail } from '../../core/errors'
import type { SealKind } from '../../core/seal/seal-appearance'
import {
  CERT_LIST_TYPE,
  CertDigestList,
  CertInfoList,
  EcdsaSigValue,
  ExtData,
  ExtensionDatas,
  SES_HEADER_ID,
  SES_OID,
  SES_VERSION,
  SesEsPictureInfo,
  SesEsPropertyInfo,
  SesHeader,
  SesSeal,
  SesSealInfo,
  TongbanSealKind,
} from './ses-seal-asn1'

/**
 * Electronic seals (电子印章) in the data format of GB/T 38540-2020 §6 (SESeal, version 4): the
 * seal's header, id, property (type, name, holder certificates, dates) and picture, signed by the
 * seal maker (制章者) — in tongban, the region's seal CA. Signatures are ECDSA P-256 with SHA-256
 * through WebCrypto; the standard's SM2/SM3 is not available there (see docs/seals.md).
 */

/** The seal data cannot be read: not DER, truncated, not a version 4 SESeal. */
export class SesSealMalformedError extends TongbanError {
  readonly code = 'ses_seal_malformed'
  readonly status = 400
}

/** What was asked to go into a seal cannot: `details` point at each field. */
export class SesSealInvalidInputError extends TongbanError {
  readonly code = 'ses_seal_invalid'
  readonly status = 422
}

/** The maker's private key does not belong to the maker's certificate. */
export class SesSealKeyMismatchError extends TongbanError {
  readonly code = 'ses_seal_key_mismatch'
  readonly status = 422
}

export type SesSealOwnerType = 'organisation' | 'person'

/** `SES_ESPropertyInfo.type`, as GM/T 0031 numbered it: 1 单位印章, 2 个人印章. */
export const SES_SEAL_TYPE: Record<SesSealOwnerType, number> = { organisation: 1, person: 2 }

/** Whose seal each kind is: a 法定代表人名章 is a person's name seal; the rest are the organisation's. */
export const SEAL_KIND_OWNER: Record<SealKind, SesSealOwnerType> = {
  official: 'organisation',
  finance: 'organisation',
  invoice: 'organisation',
  contract: 'organisation',
  legal_representative: 'person',
}

export const SES_VENDOR_ID = 'tongban'

export interface SesSealInput {
  /** The seal's id (esID), printable ASCII. */
  id: string
  kind: SealKind
  /** e.g. 赣州通办科技有限公司合同专用章. */
  name: string
  ownerType: SesSealOwnerType
  /** DER certificates of the keys that may use the seal. */
  holderCertificates: Uint8Array[]
  createdAt: Date
  validStart: Date
  validEnd: Date
  picture: { type: 'SVG' | 'PNG'; data: Uint8Array; widthMm: number; heightMm: number }
  /** `SES_Header.Vid`; `tongban` unless given. */
  vendorId?: string
}

export interface SesSealMaker {
  /** ECDSA P-256, usable for signing. */
  privateKey: CryptoKey
  /** DER. */
  certificate: Uint8Array
}

export interface SesSealView {
  version: number
  vendorId: string
  id: string
  /** `SES_ESPropertyInfo.type` as found. */
  type: number
  /** From `type` when it is 1 or 2. */
  ownerType: SesSealOwnerType | undefined
  /** From tongban's extension, when present. */
  kind: SealKind | undefined
  name: string
  certListType: number
  /** DER, when `certListType` is 1. */
  holderCertificates: Uint8Array[]
  /** When `certListType` is 2. */
  holderCertificateDigests: { algorithm: string; value: Uint8Array }[]
  createdAt: Date
  validStart: Date
  validEnd: Date
  picture: { type: string; data: Uint8Array; widthMm: number; heightMm: number }
  extensions: { id: string; critical: boolean; value: Uint8Array }[]
  /** DER. */
  makerCertificate: Uint8Array
  signatureAlgorithm: string
  /** The BIT STRING's content: for ECDSA, a DER ECDSA-Sig-Value. */
  signatureValue: Uint8Array
}

export interface SesSealVerification {
  /** The maker's signature holds over the seal info (and the maker is trusted, when a list was given). */
  valid: boolean
  problem?: string
  view: SesSealView
}

const SEAL_KINDS = Object.keys(SEAL_KIND_OWNER) as SealKind[]
const ES256_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ES256_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const
const P256_BYTES = 32
const MAX_PICTURE_MM = 1000
const MAX_NAME_CHARS = 200
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

const bytesOf = (buffer: ArrayBuffer | ArrayBufferView): Uint8Array =>
  buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
const copyBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer
const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i])
const isAsciiPrintable = (text: string) => /^[\x20-\x7e]+$/.test(text)
/** GeneralizedTime to the second: fractions are legal DER but trip up other readers. */
const wholeSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000)

// --- building

/**
 * Builds and signs a seal. The signature is checked against the maker's certificate before the
 * seal is returned, so a key that does not belong to the certificate never yields a seal.
 */
export async function buildSesSeal(input: SesSealInput, maker: SesSealMaker): Promise<Uint8Array> {
  const problems = [...inputProblems(input), ...(await makerProblems(maker))]
  if (problems.length > 0) {
    throw new SesSealInvalidInputError(`the seal cannot be made: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, { details: problems })
  }
  const kindValue = new Uint8Array(AsnConvert.serialize(new TongbanSealKind({ kind: input.kind })))
  const sealInfo = new SesSealInfo({
    header: new SesHeader({ id: SES_HEADER_ID, version: SES_VERSION, vid: input.vendorId ?? SES_VENDOR_ID }),
    esID: input.id,
    property: new SesEsPropertyInfo({
      type: SES_SEAL_TYPE[input.ownerType],
      name: input.name.trim(),
      certListType: CERT_LIST_TYPE.certificates,
      certList: AsnConvert.serialize(new CertInfoList(input.holderCertificates.map((der) => new OctetString(copyBuffer(der))))),
      createDate: wholeSeconds(input.createdAt),
      validStart: wholeSeconds(input.validStart),
      validEnd: wholeSeconds(input.validEnd),
    }),
    picture: new SesEsPictureInfo({
      type: input.picture.type,
      data: new OctetString(copyBuffer(input.picture.data)),
      width: input.picture.widthMm,
      height: input.picture.heightMm,
    }),
    extDatas: new ExtensionDatas([new ExtData({ extnID: SES_OID.tongbanSealKind, extnValue: new OctetString(copyBuffer(kindValue)) })]),
  })
  const toBeSigned = new Uint8Array(AsnConvert.serialize(sealInfo))
  const raw = new Uint8Array(await crypto.subtle.sign(ES256_SIGN, maker.privateKey, toBeSigned as BufferSource))
  const seal = new SesSeal({
    eSealInfo: sealInfo,
    cert: new OctetString(copyBuffer(maker.certificate)),
    signAlgID: SES_OID.ecdsaWithSha256,
    signedValue: new BitString(copyBuffer(ecdsaRawToDer(raw))),
  })
  const der = new Uint8Array(AsnConvert.serialize(seal))
  const check = await verifySesSeal(der)
  if (!check.valid) throw new SesSealKeyMismatchError(`the maker's private key does not match the maker certificate (${check.problem ?? 'signature did not verify'})`)
  return der
}

function inputProblems(input: SesSealInput): ProblemDetail[] {
  const problems: ProblemDetail[] = []
  const add = (pointer: string, message: string) => problems.push({ pointer, message })
  if (typeof input.id !== 'string' || input.id.length === 0 || input.id.length > 128 || !isAsciiPrintable(input.id)) {
    add('/id', 'the seal id is 1 to 128 printable ASCII characters (it is an IA5String)')
  }
  if (input.vendorId !== undefined && (typeof input.vendorId !== 'string' || input.vendorId.length > 64 || !isAsciiPrintable(input.vendorId))) {
    add('/vendorId', 'the vendor id is 1 to 64 printable ASCII characters (it is an IA5String)')
  }
  if (!SEAL_KINDS.includes(input.kind)) add('/kind', `the kind is one of ${SEAL_KINDS.join(', ')}`)
  else if (SEAL_KIND_OWNER[input.kind] !== input.ownerType) {
    add('/ownerType', `a ${input.kind} seal belongs to ${SEAL_KIND_OWNER[input.kind] === 'person' ? 'a person' : 'an organisation'}, not to ${input.ownerType === 'person' ? 'a person' : 'an organisation'}`)
  }
  const name = typeof input.name === 'string' ? input.name.trim() : ''
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(name)) {
    add('/name', `the seal name is 1 to ${MAX_NAME_CHARS} characters without control characters`)
  }
  if (!Array.isArray(input.holderCertificates) || input.holderCertificates.length === 0) {
    add('/holderCertificates', 'a seal lists the certificate of at least one holder')
  } else {
    input.holderCertificates.forEach((der, i) => {
      if (!parsesAsCertificate(der)) add(`/holderCertificates/${i}`, 'not a DER X.509 certificate')
    })
  }
  for (const field of ['createdAt', 'validStart', 'validEnd'] as const) {
    const date = input[field]
    if (!(date instanceof Date) || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1950 || date.getUTCFullYear() > 9999) add(`/${field}`, 'not a valid date')
  }
  if (input.validStart instanceof Date && input.validEnd instanceof Date && !(wholeSeconds(input.validStart) < wholeSeconds(input.validEnd))) {
    add('/validEnd', 'the seal’s validity ends after it starts')
  }
  const picture = input.picture
  if (!picture || !(picture.data instanceof Uint8Array)) {
    add('/picture', 'the picture needs a type, data and its size in millimetres')
    return problems
  }
  if (picture.type === 'PNG') {
    if (!PNG_SIGNATURE.every((b, i) => picture.data[i] === b)) add('/picture/data', 'not a PNG image')
  } else if (picture.type === 'SVG') {
    if (!looksLikeSvg(picture.data)) add('/picture/data', 'not an SVG image (UTF-8 text with an <svg> element)')
  } else {
    add('/picture/type', 'the picture type is SVG or PNG')
  }
  for (const [field, value] of [['widthMm', picture.widthMm], ['heightMm', picture.heightMm]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_PICTURE_MM) add(`/picture/${field}`, `a whole number of millimetres from 1 to ${MAX_PICTURE_MM} (the standard stores an INTEGER)`)
  }
  return problems
}

async function makerProblems(maker: SesSealMaker): Promise<ProblemDetail[]> {
  const problems: ProblemDetail[] = []
  const algorithm = maker?.privateKey?.algorithm as EcKeyAlgorithm | undefined
  if (maker?.privateKey?.type !== 'private' || algorithm?.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256' || !maker.privateKey.usages.includes('sign')) {
    problems.push({ pointer: '/maker/privateKey', message: 'the seal maker signs with an ECDSA P-256 private key usable for signing' })
  }
  const certificate = maker?.certificate instanceof Uint8Array ? parsesAsCertificate(maker.certificate) : undefined
  if (!certificate) problems.push({ pointer: '/maker/certificate', message: 'not a DER X.509 certificate' })
  else if (!(await p256PublicKey(certificate))) problems.push({ pointer: '/maker/certificate', message: 'the maker certificate’s key is not an ECDSA P-256 key' })
  return problems
}

function parsesAsCertificate(der: unknown): Certificate | undefined {
  if (!(der instanceof Uint8Array) || der.length === 0) return undefined
  try {
    if (derElementEnd(der, 0) !== der.length) return undefined
    return AsnConvert.parse(der, Certificate)
  } catch {
    return undefined
  }
}

function looksLikeSvg(data: Uint8Array): boolean {
  try {
    return /<svg[\s>]/.test(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch {
    return false
  }
}

async function p256PublicKey(certificate: Certificate): Promise<CryptoKey | undefined> {
  const spki = certificate.tbsCertificate.subjectPublicKeyInfo
  if (spki.algorithm.algorithm !== SES_OID.ecPublicKey) return undefined
  try {
    return await crypto.subtle.importKey('spki', AsnConvert.serialize(spki), ES256_KEY, false, ['verify'])
  } catch {
    return undefined
  }
}

// --- reading

interface ParsedSeal {
  view: SesSealView
  /** The bytes of `eSealInfo` exactly as received: what the maker signed. */
  signed: Uint8Array
  makerCertificate: Certificate
  signatureUnusedBits: number
}

/** Reads a seal without judging it; throws {@link SesSealMalformedError} for anything unreadable. */
export function parseSesSeal(der: Uint8Array): SesSealView {
  return readSeal(der).view
}

function readSeal(der: Uint8Array): ParsedSeal {
  if (!(der instanceof Uint8Array) || der.length === 0) throw new SesSealMalformedError('the seal data is empty')
  // The parser does not insist on the universal SEQUENCE tag; DER does, and one seal has one encoding.
  if (der[0] !== 0x30) throw new SesSealMalformedError('an SESeal is a DER SEQUENCE (tag 0x30)')
  if (derElementEnd(der, 0) !== der.length) throw new SesSealMalformedError('bytes after the SESeal')
  let seal: SesSeal
  try {
    seal = AsnConvert.parse(der, SesSeal)
  } catch (cause) {
    throw new SesSealMalformedError('not a GB/T 38540 SESeal', { cause })
  }
  const info = seal.eSealInfo
  if (info.header.id !== SES_HEADER_ID) throw new SesSealMalformedError(`the seal header ID is "${info.header.id}", not "${SES_HEADER_ID}"`)
  if (info.header.version !== SES_VERSION) throw new SesSealMalformedError(`seal data version ${info.header.version} is not the version ${SES_VERSION} of GB/T 38540-2020`)
  if (!seal.eSealInfoRaw) throw new SesSealMalformedError('the seal info could not be located')
  const property = info.property
  const holders = readCertList(property.certListType, property.certList)
  const makerCertificateDer = bytesOf(seal.cert.buffer).slice()
  const makerCertificate = parsesAsCertificate(makerCertificateDer)
  if (!makerCertificate) throw new SesSealMalformedError('the maker certificate is not a DER X.509 certificate')
  const extensions = [...(info.extDatas ?? [])].map((e) => ({ id: e.extnID, critical: e.critical, value: bytesOf(e.extnValue.buffer).slice() }))
  const view: SesSealView = {
    version: info.header.version,
    vendorId: info.header.vid,
    id: info.esID,
    type: property.type,
    ownerType: property.type === SES_SEAL_TYPE.organisation ? 'organisation' : property.type === SES_SEAL_TYPE.person ? 'person' : undefined,
    kind: readKind(extensions),
    name: property.name,
    certListType: property.certListType,
    holderCertificates: holders.certificates,
    holderCertificateDigests: holders.digests,
    createdAt: property.createDate,
    validStart: property.validStart,
    validEnd: property.validEnd,
    picture: { type: info.picture.type, data: bytesOf(info.picture.data.buffer).slice(), widthMm: info.picture.width, heightMm: info.picture.height },
    extensions,
    makerCertificate: makerCertificateDer,
    signatureAlgorithm: seal.signAlgID,
    signatureValue: bytesOf(seal.signedValue.value).slice(),
  }
  return { view, signed: bytesOf(seal.eSealInfoRaw).slice(), makerCertificate, signatureUnusedBits: seal.signedValue.unusedBits }
}

function readCertList(type: number, certList: ArrayBuffer): { certificates: Uint8Array[]; digests: SesSealView['holderCertificateDigests'] } {
  try {
    if (type === CERT_LIST_TYPE.certificates) {
      const certificates = [...AsnConvert.parse(certList, CertInfoList)].map((c) => bytesOf(c.buffer).slice())
      certificates.forEach((c, i) => {
        if (!parsesAsCertificate(c)) throw new SesSealMalformedError(`holder certificate ${i} is not a DER X.509 certificate`)
      })
      return { certificates, digests: [] }
    }
    if (type === CERT_LIST_TYPE.digests) {
      return { certificates: [], digests: [...AsnConvert.parse(certList, CertDigestList)].map((d) => ({ algorithm: d.type, value: bytesOf(d.value.buffer).slice() })) }
    }
  } catch (cause) {
    throw cause instanceof SesSealMalformedError ? cause : new SesSealMalformedError('the holder certificate list does not match its certListType', { cause })
  }
  throw new SesSealMalformedError(`certListType ${type} is neither 1 (certificates) nor 2 (certificate digests)`)
}

function readKind(extensions: SesSealView['extensions']): SealKind | undefined {
  const found = extensions.filter((e) => e.id === SES_OID.tongbanSealKind)
  if (found.length === 0) return undefined
  if (found.length > 1) throw new SesSealMalformedError('the seal kind extension occurs more than once')
  let kind: string
  try {
    kind = AsnConvert.parse((found[0] as { value: Uint8Array }).value, TongbanSealKind).kind
  } catch (cause) {
    throw new SesSealMalformedError('the seal kind extension is not an IA5String', { cause })
  }
  if (!SEAL_KINDS.includes(kind as SealKind)) throw new SesSealMalformedError(`unknown seal kind "${kind}"`)
  return kind as SealKind
}

// --- verifying

/**
 * Checks the maker's signature over the seal info with the public key of the maker certificate
 * carried in the seal, and, when `makerCertificates` (DER) is given, that this certificate is one
 * of them. Validity dates, the maker certificate's own chain and its revocation are for the
 * caller's policy: the view carries what it needs. Unreadable data throws
 * {@link SesSealMalformedError}; readable data that fails a check gives `valid: false`.
 */
export async function verifySesSeal(der: Uint8Array, makerCertificates?: Uint8Array[]): Promise<SesSealVerification> {
  const parsed = readSeal(der)
  const problem = await sealProblem(parsed, makerCertificates)
  return problem ? { valid: false, problem, view: parsed.view } : { valid: true, view: parsed.view }
}

async function sealProblem({ view, signed, makerCertificate, signatureUnusedBits }: ParsedSeal, makerCertificates?: Uint8Array[]): Promise<string | undefined> {
  if (makerCertificates && !makerCertificates.some((c) => equalBytes(c, view.makerCertificate))) {
    return 'the maker certificate is not one of the trusted seal makers'
  }
  if (view.signatureAlgorithm === SES_OID.sm2WithSm3) {
    return 'the seal is signed with SM2/SM3 (1.2.156.10197.1.501), which WebCrypto does not implement; tongban verifies ECDSA P-256 with SHA-256'
  }
  if (view.signatureAlgorithm !== SES_OID.ecdsaWithSha256) return `unsupported signature algorithm ${view.signatureAlgorithm}; tongban verifies ecdsa-with-SHA256`
  const critical = view.extensions.find((e) => e.critical && e.id !== SES_OID.tongbanSealKind)
  if (critical) return `the seal carries a critical extension tongban does not understand (${critical.id})`
  const publicKey = await p256PublicKey(makerCertificate)
  if (!publicKey) return 'the maker certificate’s key is not an ECDSA P-256 key'
  if (signatureUnusedBits !== 0) return 'the signature BIT STRING has unused bits'
  const raw = ecdsaDerToRaw(view.signatureValue)
  if (!raw) return 'the signature value is not a DER ECDSA-Sig-Value for P-256'
  const valid = await crypto.subtle.verify(ES256_SIGN, publicKey, raw as BufferSource, signed as BufferSource)
  return valid ? undefined : 'the maker’s signature does not match the seal info'
}

// --- ECDSA-Sig-Value ⇄ WebCrypto's r ‖ s

function derInteger(unsigned: Uint8Array): ArrayBuffer {
  let i = 0
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++
  const trimmed = unsigned.subarray(i)
  return copyBuffer((trimmed[0] as number) & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed)
}

function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2
  return new Uint8Array(AsnConvert.serialize(new EcdsaSigValue({ r: derInteger(raw.subarray(0, half)), s: derInteger(raw.subarray(half)) })))
}

/** Strict: one DER SEQUENCE of two minimal, positive INTEGERs that fit the curve; else undefined. */
function ecdsaDerToRaw(der: Uint8Array): Uint8Array | undefined {
  let value: EcdsaSigValue
  try {
    if (derElementEnd(der, 0) !== der.length) return undefined
    value = AsnConvert.parse(der, EcdsaSigValue)
    if (!equalBytes(new Uint8Array(AsnConvert.serialize(value)), der)) return undefined
  } catch {
    return undefined
  }
  const out = new Uint8Array(P256_BYTES * 2)
  for (const [k, integer] of [value.r, value.s].entries()) {
    const bytes = new Uint8Array(integer)
    const [first = 0, second = 0] = bytes
    if (bytes.length === 0 || first & 0x80 || (bytes.length > 1 && first === 0 && !(second & 0x80))) return undefined
    const magnitude = first === 0 ? bytes.subarray(1) : bytes
    if (magnitude.length > P256_BYTES) return undefined
    out.set(magnitude, (k + 1) * P256_BYTES - magnitude.length)
  }
  return out
}

/** Where the DER element starting at `at` ends; throws {@link SesSealMalformedError} if it cannot. */
function derElementEnd(bytes: Uint8Array, at: number): number {
  const tag = bytes[at]
  const first = bytes[at + 1]
  if (tag === undefined || first === undefined) throw new SesSealMalformedError('DER element truncated')
  if ((tag & 0x1f) === 0x1f) throw new SesSealMalformedError('DER element with a multi-byte tag')
  let body = at + 2
  let length = first
  if (first & 0x80) {
    const count = first & 0x7f
    if (count === 0 || count > 4) throw new SesSealMalformedError('DER length is indefinite or too long')
    length = 0
    for (let i = 0; i < count; i++) {
      const b = bytes[body++]
      if (b === undefined) throw new SesSealMalformedError('DER length truncated')
      length = length * 256 + b
    }
  }
  const end = body + length
  if (end > bytes.length) throw new SesSealMalformedError('DER element truncated')
  return end
}
