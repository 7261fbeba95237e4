import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema'
import fc from 'fast-check'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TongbanError } from '../../../src/core/errors'
import { SES_OID, SesSeal } from '../../../src/adapters/crypto/ses-seal-asn1'
import {
  buildSesSeal,
  parseSesSeal,
  SesSealInvalidInputError,
  SesSealKeyMismatchError,
  SesSealMalformedError,
  verifySesSeal,
  type SesSealInput,
  type SesSealMaker,
} from '../../../src/adapters/crypto/ses-seal'
import { ES256, randomSerialNumber, x509 } from '../../../src/adapters/crypto/x509'

interface Party {
  privateKey: CryptoKey
  certificate: Uint8Array
}

async function selfSigned(name: string): Promise<Party> {
  const keys = (await crypto.subtle.generateKey(ES256, false, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: ES256,
    keys,
  })
  return { privateKey: keys.privateKey, certificate: new Uint8Array(cert.rawData) }
}

const SEAL_NAME = '赣州通办科技有限公司合同专用章'
const SVG = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="40mm" viewBox="0 0 40 40"><circle cx="20" cy="20" r="19" fill="none" stroke="#e60012"/></svg>')

function redPng(): Uint8Array {
  const png = new PNG({ width: 8, height: 8 })
  for (let i = 0; i < png.data.length; i += 4) png.data.set([0xe6, 0x00, 0x12, 0xff], i)
  return new Uint8Array(PNG.sync.write(png))
}

let maker: SesSealMaker
let otherMaker: SesSealMaker
let holder: Party
let dir: string

beforeAll(async () => {
  maker = await selfSigned('C=CN, O=赣州市行政审批局, CN=赣州市 电子印章制章 360700')
  otherMaker = await selfSigned('C=CN, O=深圳市龙岗区行政审批局, CN=龙岗区 电子印章制章 440307')
  holder = await selfSigned('C=CN, O=赣州通办科技有限公司, CN=赣州通办科技有限公司 合同专用章')
  dir = mkdtempSync(join(tmpdir(), 'ses-seal-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function contractSeal(overrides: Partial<SesSealInput> = {}): SesSealInput {
  return {
    id: '360700-SEAL-0001',
    kind: 'contract',
    name: SEAL_NAME,
    ownerType: 'organisation',
    holderCertificates: [holder.certificate],
    createdAt: new Date('2025-03-01T08:00:00.250Z'),
    validStart: new Date('2025-03-01T00:00:00Z'),
    validEnd: new Date('2028-02-29T23:59:59Z'),
    picture: { type: 'SVG', data: SVG, widthMm: 40, heightMm: 40 },
    ...overrides,
  }
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

function asn1parse(der: Uint8Array, ...args: string[]): string {
  const file = join(dir, `seal-${crypto.randomUUID()}.der`)
  writeFileSync(file, der)
  return execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file, '-i', ...args], { encoding: 'utf8' })
}

async function expectRejected(promise: Promise<unknown>, status: number, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TongbanError)
  expect((error as TongbanError).status).toBe(status)
  expect((error as TongbanError).code).toBe(code)
  return error as TongbanError
}

describe('buildSesSeal and parseSesSeal', () => {
  test('round trip: every field comes back, and the maker’s signature verifies', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    const view = parseSesSeal(der)
    expect(view).toMatchObject({
      version: 4,
      vendorId: 'tongban',
      id: '360700-SEAL-0001',
      type: 1,
      ownerType: 'organisation',
      kind: 'contract',
      name: SEAL_NAME,
      certListType: 1,
      holderCertificateDigests: [],
      signatureAlgorithm: SES_OID.ecdsaWithSha256,
    })
    expect(view.holderCertificates).toEqual([holder.certificate])
    expect(view.makerCertificate).toEqual(maker.certificate)
    // GeneralizedTime to the second
    expect(view.createdAt.toISOString()).toBe('2025-03-01T08:00:00.000Z')
    expect(view.validStart.toISOString()).toBe('2025-03-01T00:00:00.000Z')
    expect(view.validEnd.toISOString()).toBe('2028-02-29T23:59:59.000Z')
    expect(view.picture).toEqual({ type: 'SVG', data: SVG, widthMm: 40, heightMm: 40 })
    expect(view.extensions).toEqual([{ id: SES_OID.tongbanSealKind, critical: false, value: expect.any(Uint8Array) }])

    const verification = await verifySesSeal(der)
    expect(verification).toMatchObject({ valid: true })
    expect(verification.problem).toBeUndefined()
    expect(await verifySesSeal(der, [otherMaker.certificate, maker.certificate])).toMatchObject({ valid: true })
  })

  test('a 法定代表人名章 is a person’s seal (type 2), with a PNG picture and a vendor id', async () => {
    const png = redPng()
    const der = await buildSesSeal(
      contractSeal({ kind: 'legal_representative', ownerType: 'person', name: '张三', picture: { type: 'PNG', data: png, widthMm: 20, heightMm: 20 }, vendorId: 'GZ-TONGBAN' }),
      maker,
    )
    const { valid, view } = await verifySesSeal(der)
    expect(valid).toBe(true)
    expect(view).toMatchObject({ type: 2, ownerType: 'person', kind: 'legal_representative', name: '张三', vendorId: 'GZ-TONGBAN' })
    expect(view.picture).toEqual({ type: 'PNG', data: png, widthMm: 20, heightMm: 20 })
  })

  test('several holder certificates are kept in order', async () => {
    const second = await selfSigned('CN=second holder')
    const der = await buildSesSeal(contractSeal({ holderCertificates: [holder.certificate, second.certificate] }), maker)
    expect(parseSesSeal(der).holderCertificates).toEqual([holder.certificate, second.certificate])
  })

  test('each seal is signed afresh: two builds of the same seal differ only in the signature and both verify', async () => {
    const a = await buildSesSeal(contractSeal(), maker)
    const b = await buildSesSeal(contractSeal(), maker)
    expect(parseSesSeal(a)).toMatchObject({ ...parseSesSeal(b), signatureValue: expect.any(Uint8Array) })
    expect((await verifySesSeal(b)).valid).toBe(true)
  })
})

describe('the DER, read by openssl', () => {
  test('openssl asn1parse reads the whole structure: header, UTF8String name, GeneralizedTimes, picture, algorithm, signature', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    const out = asn1parse(der)
    expect(out).toMatch(/IA5STRING\s+:ES\n/)
    expect(out).toMatch(/INTEGER\s+:04\n/)
    expect(out).toMatch(/IA5STRING\s+:tongban\n/)
    expect(out).toMatch(/IA5STRING\s+:360700-SEAL-0001\n/)
    expect(out).toContain(`UTF8STRING        :${SEAL_NAME}`)
    expect(out).toMatch(/GENERALIZEDTIME\s+:20250301080000Z\n/)
    expect(out).toMatch(/GENERALIZEDTIME\s+:20250301000000Z\n/)
    expect(out).toMatch(/GENERALIZEDTIME\s+:20280229235959Z\n/)
    expect(out).toMatch(/IA5STRING\s+:SVG\n/)
    expect(out).toMatch(/INTEGER\s+:28\n/) // 40 mm
    expect(out).toContain(`OBJECT            :${SES_OID.tongbanSealKind}`)
    expect(out).toContain(`[HEX DUMP]:${Buffer.from('\x16\x08contract', 'latin1').toString('hex').toUpperCase()}`) // IA5String "contract"
    expect(out).toMatch(/OBJECT\s+:ecdsa-with-SHA256\n/)
    expect(out).toMatch(/BIT STRING\s*\n?$/)
    expect(out).not.toMatch(/error/i)
    // the last line is the signature: inside it, an ECDSA-Sig-Value of two INTEGERs
    const lines = out.trim().split('\n')
    const offset = Number((lines.at(-1) as string).trim().split(':')[0])
    const signature = asn1parse(der, '-strparse', String(offset))
    expect(signature).toMatch(/^\s*0:d=0\s+hl=2\s+l=\s*\d+\s+cons:\s+SEQUENCE/)
    expect(signature.match(/prim:\s+INTEGER/g)).toHaveLength(2)
  })

  test('openssl verifies the maker’s ECDSA signature over DER(eSealInfo) with the public key of the maker certificate', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    const seal = AsnConvert.parse(der, SesSeal)
    const info = new Uint8Array(seal.eSealInfoRaw as ArrayBuffer)
    expect(indexOfBytes(der, info)).toBeGreaterThan(0)
    const files = { info: join(dir, 'info.der'), sig: join(dir, 'sig.der'), cert: join(dir, 'maker.der'), pub: join(dir, 'maker-pub.pem') }
    writeFileSync(files.info, info)
    writeFileSync(files.sig, new Uint8Array(seal.signedValue.value))
    writeFileSync(files.cert, maker.certificate)
    execFileSync('openssl', ['x509', '-inform', 'DER', '-in', files.cert, '-pubkey', '-noout', '-out', files.pub])
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', files.pub, '-signature', files.sig, files.info], { encoding: 'utf8' })
    expect(out.trim()).toBe('Verified OK')
  })
})

describe('tampering and wrong keys', () => {
  test('flipping a bit in the seal name breaks the signature', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    const name = new TextEncoder().encode(SEAL_NAME)
    const at = indexOfBytes(der, name)
    expect(at).toBeGreaterThan(0)
    const tampered = der.slice()
    // the last byte of 章 is a UTF-8 continuation byte: flipping its low bit keeps valid UTF-8
    tampered[at + name.length - 1] = (der[at + name.length - 1] as number) ^ 0x01
    const result = await verifySesSeal(tampered)
    expect(result.view.name).not.toBe(SEAL_NAME)
    expect(result.valid).toBe(false)
    expect(result.problem).toMatch(/signature does not match/)
  })

  test('flipping a bit in the picture breaks the signature', async () => {
    const png = redPng()
    const der = await buildSesSeal(contractSeal({ picture: { type: 'PNG', data: png, widthMm: 40, heightMm: 40 } }), maker)
    const at = indexOfBytes(der, png)
    expect(at).toBeGreaterThan(0)
    const tampered = der.slice()
    tampered[at + png.length - 5] = (der[at + png.length - 5] as number) ^ 0x40
    const result = await verifySesSeal(tampered)
    expect(result.valid).toBe(false)
    expect(result.problem).toMatch(/signature does not match/)
  })

  test('a private key that is not the maker certificate’s is refused when building', async () => {
    const error = await expectRejected(buildSesSeal(contractSeal(), { privateKey: otherMaker.privateKey, certificate: maker.certificate }), 422, 'ses_seal_key_mismatch')
    expect(error).toBeInstanceOf(SesSealKeyMismatchError)
  })

  test('a seal whose maker certificate was swapped for another maker’s fails verification', async () => {
    const seal = AsnConvert.parse(await buildSesSeal(contractSeal(), maker), SesSeal)
    seal.cert = new OctetString(otherMaker.certificate.slice().buffer)
    const swapped = new Uint8Array(AsnConvert.serialize(seal))
    const result = await verifySesSeal(swapped)
    expect(result.valid).toBe(false)
    expect(result.problem).toMatch(/signature does not match/)
  })

  test('a seal signed by another maker is not trusted when the trusted makers are named', async () => {
    const der = await buildSesSeal(contractSeal(), otherMaker)
    expect((await verifySesSeal(der)).valid).toBe(true)
    const result = await verifySesSeal(der, [maker.certificate])
    expect(result.valid).toBe(false)
    expect(result.problem).toMatch(/not one of the trusted seal makers/)
  })

  test('an SM2/SM3 algorithm identifier is reported as unsupported, not as a forgery', async () => {
    const seal = AsnConvert.parse(await buildSesSeal(contractSeal(), maker), SesSeal)
    seal.signAlgID = SES_OID.sm2WithSm3
    const result = await verifySesSeal(new Uint8Array(AsnConvert.serialize(seal)))
    expect(result.valid).toBe(false)
    expect(result.problem).toMatch(/SM2\/SM3 .* WebCrypto/)
  })

  test('a signature that is not a DER ECDSA-Sig-Value (raw r‖s) is refused', async () => {
    const seal = AsnConvert.parse(await buildSesSeal(contractSeal(), maker), SesSeal)
    seal.signedValue = new BitString(new Uint8Array(64).fill(1).buffer)
    const result = await verifySesSeal(new Uint8Array(AsnConvert.serialize(seal)))
    expect(result).toMatchObject({ valid: false, problem: expect.stringMatching(/not a DER ECDSA-Sig-Value/) })
  })

  test('the outer tag must be the universal SEQUENCE: [16] constructed (0xB0) parses as well but is not DER', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    const retagged = der.slice()
    retagged[0] = 0xb0
    await expectRejected(verifySesSeal(retagged, [maker.certificate]), 400, 'ses_seal_malformed')
  })

  test('no single flipped byte anywhere yields a valid seal from a trusted maker, and none crashes', async () => {
    const der = await buildSesSeal(contractSeal({ picture: { type: 'PNG', data: redPng(), widthMm: 40, heightMm: 40 } }), maker)
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: der.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        const tampered = der.slice()
        tampered[at] = (der[at] as number) ^ mask
        try {
          const result = await verifySesSeal(tampered, [maker.certificate])
          expect(result.valid).toBe(false)
        } catch (error) {
          expect(error).toBeInstanceOf(SesSealMalformedError)
          expect((error as TongbanError).status).toBe(400)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('unreadable seal data is a 400, never a crash', () => {
  test('truncated DER', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    for (const length of [0, 1, 2, 3, 40, Math.floor(der.length / 2), der.length - 1]) {
      const truncated = der.subarray(0, length)
      expect(() => parseSesSeal(truncated), `cut at ${length}`).toThrow(SesSealMalformedError)
      const error = await expectRejected(verifySesSeal(truncated), 400, 'ses_seal_malformed')
      expect(error.message.length).toBeGreaterThan(0)
    }
  })

  test('garbage, trailing bytes, another DER structure', async () => {
    const der = await buildSesSeal(contractSeal(), maker)
    await expectRejected(verifySesSeal(crypto.getRandomValues(new Uint8Array(300))), 400, 'ses_seal_malformed')
    await expectRejected(verifySesSeal(Uint8Array.of(...der, 0)), 400, 'ses_seal_malformed')
    await expectRejected(verifySesSeal(maker.certificate), 400, 'ses_seal_malformed')
    await expectRejected(verifySesSeal(new TextEncoder().encode('not a seal')), 400, 'ses_seal_malformed')
  })

  test('a header that is not "ES" version 4', async () => {
    const seal = AsnConvert.parse(await buildSesSeal(contractSeal(), maker), SesSeal)
    seal.eSealInfo.header.version = 2
    expect(() => parseSesSeal(new Uint8Array(AsnConvert.serialize(seal)))).toThrow(/version 2/)
    seal.eSealInfo.header.version = 4
    seal.eSealInfo.header.id = 'XX'
    expect(() => parseSesSeal(new Uint8Array(AsnConvert.serialize(seal)))).toThrow(/header ID/)
  })
})

describe('what cannot go into a seal is a 422 that names the field', () => {
  const cases: [string, () => Partial<SesSealInput>, string][] = [
    ['an official seal owned by a person', () => ({ kind: 'official', ownerType: 'person' }), '/ownerType'],
    ['a 法定代表人名章 owned by an organisation', () => ({ kind: 'legal_representative', ownerType: 'organisation' }), '/ownerType'],
    ['an unknown kind', () => ({ kind: 'stamp' as never }), '/kind'],
    ['a non-ASCII id', () => ({ id: '印章-1' }), '/id'],
    ['a non-ASCII vendor id', () => ({ vendorId: '通办' }), '/vendorId'],
    ['an empty name', () => ({ name: '  ' }), '/name'],
    ['no holder certificate', () => ({ holderCertificates: [] }), '/holderCertificates'],
    ['a holder certificate that is not one', () => ({ holderCertificates: [holder.certificate, Uint8Array.of(1, 2, 3)] }), '/holderCertificates/1'],
    ['validity that ends before it starts', () => ({ validEnd: new Date('2024-01-01T00:00:00Z') }), '/validEnd'],
    ['an invalid date', () => ({ createdAt: new Date('nope') }), '/createdAt'],
    ['a fractional width', () => ({ picture: { type: 'SVG', data: SVG, widthMm: 40.5, heightMm: 40 } }), '/picture/widthMm'],
    ['a zero height', () => ({ picture: { type: 'SVG', data: SVG, widthMm: 40, heightMm: 0 } }), '/picture/heightMm'],
    ['PNG bytes that are SVG', () => ({ picture: { type: 'PNG', data: SVG, widthMm: 40, heightMm: 40 } }), '/picture/data'],
    ['an OFD picture', () => ({ picture: { type: 'OFD' as never, data: SVG, widthMm: 40, heightMm: 40 } }), '/picture/type'],
  ]
  for (const [what, overrides, pointer] of cases) {
    test(what, async () => {
      const error = await expectRejected(buildSesSeal(contractSeal(overrides()), maker), 422, 'ses_seal_invalid')
      expect(error).toBeInstanceOf(SesSealInvalidInputError)
      expect(error.details.map((d) => d.pointer)).toContain(pointer)
    })
  }

  test('a maker key that is not ECDSA P-256, and a maker certificate that is not one', async () => {
    const rsa = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-256' }, false, ['sign', 'verify'])) as CryptoKeyPair
    let error = await expectRejected(buildSesSeal(contractSeal(), { privateKey: rsa.privateKey, certificate: maker.certificate }), 422, 'ses_seal_invalid')
    expect(error.details.map((d) => d.pointer)).toEqual(['/maker/privateKey'])
    error = await expectRejected(buildSesSeal(contractSeal(), { privateKey: maker.privateKey, certificate: Uint8Array.of(0x30, 0) }), 422, 'ses_seal_invalid')
    expect(error.details.map((d) => d.pointer)).toEqual(['/maker/certificate'])
  })
})
