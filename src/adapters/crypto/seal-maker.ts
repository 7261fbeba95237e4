import type { MadeSeal, SealMaker } from '../../core/seal/seal-service'
import { SEAL_KIND_NAMES, SEAL_SIZE_MM, type Seal } from '../../core/seal/seal'
import { renderSealSvg } from '../pdf/seal-drawing'
import { wrapPrivateKey, type KeyAlgorithm } from './key-wrap'
import type { PkiEntry } from './pki'
import { importPkcs12 } from './pkcs12'
import { buildSesSeal } from './ses-seal'
import { certificateFingerprint, ES256, randomSerialNumber, toBase64, x509 } from './x509'

export interface SealMakerDeps {
  sealCa: PkiEntry
  /** The CA chain above the seal CA, up to the root. */
  chainAbove: x509.X509Certificate[]
  kek: CryptoKey
  loadFont: () => Promise<Uint8Array>
}

function subjectOf(input: Parameters<SealMaker['make']>[0]): string {
  const clean = (text: string) => text.replaceAll(/[,+=<>#;"\\]/g, ' ')
  return `C=CN, O=${clean(input.owner.name)}, OU=${SEAL_KIND_NAMES[input.kind]}, CN=${clean(input.name)}, 2.5.4.5=${input.owner.uscc}`
}

/**
 * Makes a seal's cryptographic parts: a P-256 key made by the service (or the enterprise's own
 * from PKCS#12), a certificate from the region's seal CA naming the enterprise, its credit code
 * (serialNumber) and the kind (OU), the red seal image, and the SES_Seal signed by the seal CA.
 */
export function createSealMaker(deps: SealMakerDeps): SealMaker {
  return {
    async make(input): Promise<MadeSeal> {
      let certificate: Uint8Array
      let chain: Uint8Array[]
      let pkcs8: ArrayBuffer | Uint8Array
      let algorithm: KeyAlgorithm
      if (input.pkcs12) {
        // Extractable only for this moment: the key is wrapped for storage and never leaves otherwise.
        const imported = await importPkcs12(input.pkcs12.bytes, input.pkcs12.password, { extractable: true })
        certificate = imported.certificate
        chain = imported.chain
        pkcs8 = await crypto.subtle.exportKey('pkcs8', imported.privateKey)
        algorithm = imported.algorithm
      } else {
        const keys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
        const issued = await x509.X509CertificateGenerator.create({
          serialNumber: randomSerialNumber(),
          subject: subjectOf(input),
          issuer: deps.sealCa.certificate.subject,
          notBefore: input.validFrom,
          notAfter: input.validUntil < deps.sealCa.certificate.notAfter ? input.validUntil : deps.sealCa.certificate.notAfter,
          signingAlgorithm: ES256,
          publicKey: keys.publicKey,
          signingKey: deps.sealCa.privateKey as CryptoKey,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
            await x509.AuthorityKeyIdentifierExtension.create(deps.sealCa.certificate),
          ],
        })
        certificate = new Uint8Array(issued.rawData)
        chain = [deps.sealCa.certificate, ...deps.chainAbove].map((c) => new Uint8Array(c.rawData))
        pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
        algorithm = 'ES256'
      }
      const imageSvg = renderSealSvg({ kind: input.kind, ownerName: input.owner.name, ...(input.kind === 'legal_representative' ? { ownerName: input.name } : {}), uscc: input.owner.uscc }, await deps.loadFont())
      const sesSeal = await buildSesSeal(
        {
          id: input.id,
          kind: input.kind,
          name: input.name,
          ownerType: input.kind === 'legal_representative' ? 'person' : 'organisation',
          holderCertificates: [certificate],
          createdAt: input.validFrom,
          validStart: input.validFrom,
          validEnd: input.validUntil,
          picture: { type: 'SVG', data: new TextEncoder().encode(imageSvg), widthMm: SEAL_SIZE_MM[input.kind][0], heightMm: SEAL_SIZE_MM[input.kind][1] },
        },
        { privateKey: deps.sealCa.privateKey as CryptoKey, certificate: new Uint8Array(deps.sealCa.certificate.rawData) },
      )
      const seal: Seal = {
        id: input.id,
        kind: input.kind,
        owner: input.owner,
        name: input.name,
        status: 'active',
        statusReason: null,
        keySource: input.pkcs12 ? 'pkcs12' : 'service',
        algorithm,
        certificate: toBase64(certificate),
        chain: chain.map(toBase64),
        certificateSha256: await certificateFingerprint(new x509.X509Certificate(certificate as Uint8Array<ArrayBuffer>)),
        sesSeal: toBase64(sesSeal),
        imageSvg,
        validFrom: input.validFrom,
        validUntil: input.validUntil,
        createdAt: input.validFrom,
      }
      return { seal, wrappedKey: await wrapPrivateKey(deps.kek, pkcs8, input.id) }
    },
  }
}
