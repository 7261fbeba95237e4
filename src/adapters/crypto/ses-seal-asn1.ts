import {
  AsnArray,
  AsnIntegerArrayBufferConverter,
  AsnObjectIdentifierConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  BitString,
  OctetString,
  type IAsnConverter,
} from '@peculiar/asn1-schema'

/**
 * The electronic seal data format of GB/T 38540-2020 (安全电子签章密码技术规范, §6.1, version 4),
 * one class per ASN.1 structure. Field names follow the standard, including its spelling
 * `SES_ESPictrueInfo`. The structures are shared with earlier vendor formats (GM/T 0031-2014,
 * versions 1–3), which nest the signature in a `SES_SignInfo`; version 4 puts the maker's
 * certificate, algorithm and signature directly in `SESeal`, as here.
 */

export const SES_OID = {
  /** ecdsa-with-SHA256 (RFC 5758 §3.2): what tongban signs seals with. */
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  /** SM2 signature with SM3 (GB/T 33560): the national choice, which WebCrypto cannot compute. */
  sm2WithSm3: '1.2.156.10197.1.501',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  /**
   * tongban's seal kind (official, finance, …) carried in `extDatas`. The standard leaves
   * extensions to vendors; the arc is a UUID OID (ITU-T X.667, 2.25 + UUID
   * dfbf3662-1b15-49bf-a3fe-9e0cf802be76), so it needs no registration.
   */
  tongbanSealKind: '2.25.297410674782876746297992924441941818998',
} as const

/**
 * Object identifiers in dotted decimal, whatever the size of their arcs. The library's own
 * converter writes UUID arcs (2.25.x, 128 bits) correctly but reads them back in a hexadecimal
 * form, so this one reads the content octets itself.
 */
export const AsnOidConverter: IAsnConverter<string> = {
  toASN: (value) => AsnObjectIdentifierConverter.toASN(value),
  fromASN: (value: { valueBeforeDecodeView: Uint8Array }) => {
    const tlv = value.valueBeforeDecodeView
    const lengthByte = tlv[1] ?? 0
    const content = tlv.subarray(lengthByte & 0x80 ? 2 + (lengthByte & 0x7f) : 2)
    const arcs: bigint[] = []
    let arc = 0n
    for (const byte of content) {
      arc = (arc << 7n) | BigInt(byte & 0x7f)
      if (byte & 0x80) continue
      if (arcs.length === 0) arcs.push(arc < 80n ? arc / 40n : 2n, arc < 80n ? arc % 40n : arc - 80n)
      else arcs.push(arc)
      arc = 0n
    }
    return arcs.join('.')
  },
}

/** `SES_Header.ID`: the fixed value that marks electronic seal data. */
export const SES_HEADER_ID = 'ES'
/** `SES_Header.version`: 4 is the GB/T 38540-2020 format. */
export const SES_VERSION = 4

/** `SES_ESPropertyInfo.certListType`: what `certList` holds. */
export const CERT_LIST_TYPE = { certificates: 1, digests: 2 } as const

/**
 * ```asn1
 * SES_Header ::= SEQUENCE {
 *   ID       IA5String,   -- "ES"
 *   version  INTEGER,     -- 4
 *   Vid      IA5String }  -- the vendor's identifier, for interoperability
 * ```
 */
export class SesHeader {
  @AsnProp({ type: AsnPropTypes.IA5String })
  id = SES_HEADER_ID

  @AsnProp({ type: AsnPropTypes.Integer })
  version = SES_VERSION

  @AsnProp({ type: AsnPropTypes.IA5String })
  vid = ''

  constructor(params: Partial<SesHeader> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * CertInfoList ::= SEQUENCE OF OCTET STRING   -- DER certificates of the seal's holders
 * ```
 */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: OctetString })
export class CertInfoList extends AsnArray<OctetString> {}

/**
 * ```asn1
 * CertDigestObj ::= SEQUENCE {
 *   type   PrintableString,   -- the digest algorithm, e.g. "SHA-256"
 *   value  OCTET STRING }
 * ```
 */
export class CertDigestObj {
  @AsnProp({ type: AsnPropTypes.PrintableString })
  type = ''

  @AsnProp({ type: OctetString })
  value = new OctetString()

  constructor(params: Partial<CertDigestObj> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * CertDigestList ::= SEQUENCE OF CertDigestObj
 * ```
 */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: CertDigestObj })
export class CertDigestList extends AsnArray<CertDigestObj> {}

/**
 * ```asn1
 * SES_ESPropertyInfo ::= SEQUENCE {
 *   type          INTEGER,           -- seal type; tongban: 1 organisation, 2 person
 *   name          UTF8String,        -- e.g. 赣州通办科技有限公司合同专用章
 *   certListType  INTEGER,           -- 1 certificates, 2 certificate digests
 *   certList      SES_CertList,
 *   createDate    GeneralizedTime,
 *   validStart    GeneralizedTime,
 *   validEnd      GeneralizedTime }
 *
 * SES_CertList ::= CHOICE {
 *   certs           CertInfoList,
 *   certDigestList  CertDigestList }
 * ```
 * Both alternatives of `SES_CertList` are a SEQUENCE, so the tag cannot tell them apart:
 * the standard resolves the CHOICE by `certListType`, and so does `certList` here, which
 * keeps the element as it came (see {@link CertInfoList}, {@link CertDigestList}).
 */
export class SesEsPropertyInfo {
  @AsnProp({ type: AsnPropTypes.Integer })
  type = 0

  @AsnProp({ type: AsnPropTypes.Utf8String })
  name = ''

  @AsnProp({ type: AsnPropTypes.Integer })
  certListType: number = CERT_LIST_TYPE.certificates

  @AsnProp({ type: AsnPropTypes.Any })
  certList = new ArrayBuffer(0)

  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  createDate = new Date(0)

  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  validStart = new Date(0)

  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  validEnd = new Date(0)

  constructor(params: Partial<SesEsPropertyInfo> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * SES_ESPictrueInfo ::= SEQUENCE {   -- (sic)
 *   type    IA5String,      -- "SVG", "PNG", "OFD", …
 *   data    OCTET STRING,
 *   width   INTEGER,        -- display width, mm
 *   height  INTEGER }       -- display height, mm
 * ```
 */
export class SesEsPictureInfo {
  @AsnProp({ type: AsnPropTypes.IA5String })
  type = ''

  @AsnProp({ type: OctetString })
  data = new OctetString()

  @AsnProp({ type: AsnPropTypes.Integer })
  width = 0

  @AsnProp({ type: AsnPropTypes.Integer })
  height = 0

  constructor(params: Partial<SesEsPictureInfo> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * ExtData ::= SEQUENCE {
 *   extnID     OBJECT IDENTIFIER,
 *   critical   BOOLEAN DEFAULT FALSE,
 *   extnValue  OCTET STRING }
 * ```
 */
export class ExtData {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, converter: AsnOidConverter })
  extnID = ''

  @AsnProp({ type: AsnPropTypes.Boolean, defaultValue: false })
  critical = false

  @AsnProp({ type: OctetString })
  extnValue = new OctetString()

  constructor(params: Partial<ExtData> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * TongbanSealKind ::= IA5String   -- "official", "finance", "invoice", "contract", "legal_representative"
 * ```
 * The `extnValue` of tongban's {@link SES_OID.tongbanSealKind} extension.
 */
@AsnType({ type: AsnTypeTypes.Choice })
export class TongbanSealKind {
  @AsnProp({ type: AsnPropTypes.IA5String })
  kind = ''

  constructor(params: Partial<TongbanSealKind> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * ExtensionDatas ::= SEQUENCE OF ExtData
 * ```
 */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: ExtData })
export class ExtensionDatas extends AsnArray<ExtData> {}

/**
 * ```asn1
 * SES_SealInfo ::= SEQUENCE {
 *   header    SES_Header,
 *   esID      IA5String,            -- the seal's unique identifier
 *   property  SES_ESPropertyInfo,
 *   picture   SES_ESPictrueInfo,
 *   extDatas  ExtensionDatas OPTIONAL }
 * ```
 */
export class SesSealInfo {
  @AsnProp({ type: SesHeader })
  header = new SesHeader()

  @AsnProp({ type: AsnPropTypes.IA5String })
  esID = ''

  @AsnProp({ type: SesEsPropertyInfo })
  property = new SesEsPropertyInfo()

  @AsnProp({ type: SesEsPictureInfo })
  picture = new SesEsPictureInfo()

  @AsnProp({ type: ExtensionDatas, optional: true })
  extDatas?: ExtensionDatas

  constructor(params: Partial<SesSealInfo> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * SESeal ::= SEQUENCE {
 *   eSealInfo    SES_SealInfo,
 *   cert         OCTET STRING,        -- the seal maker's DER certificate
 *   signAlgID    OBJECT IDENTIFIER,
 *   signedValue  BIT STRING }         -- the maker's signature over DER(eSealInfo)
 * ```
 * `eSealInfoRaw` keeps the bytes of `eSealInfo` as received: the signature is over those, and a
 * re-encoding of the parsed value need not reproduce them.
 */
export class SesSeal {
  @AsnProp({ type: SesSealInfo, raw: true })
  eSealInfo = new SesSealInfo()

  eSealInfoRaw?: ArrayBuffer

  @AsnProp({ type: OctetString })
  cert = new OctetString()

  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, converter: AsnOidConverter })
  signAlgID = ''

  @AsnProp({ type: BitString })
  signedValue = new BitString()

  constructor(params: Partial<SesSeal> = {}) {
    Object.assign(this, params)
  }
}

/**
 * ```asn1
 * ECDSA-Sig-Value ::= SEQUENCE {   -- RFC 3279 §2.2.3
 *   r  INTEGER,
 *   s  INTEGER }
 * ```
 * What `signedValue` holds for ECDSA, as in X.509; WebCrypto speaks fixed-size r ‖ s instead.
 * The integers stay as their two's-complement content bytes.
 */
export class EcdsaSigValue {
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  r = new ArrayBuffer(0)

  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  s = new ArrayBuffer(0)

  constructor(params: Partial<EcdsaSigValue> = {}) {
    Object.assign(this, params)
  }
}
