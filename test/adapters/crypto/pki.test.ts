import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completeRegionPki, type PkiEntry, type PkiRole, type RegionPki } from '../../../src/adapters/crypto/pki'
import { certificateFingerprint, ES256, randomSerialNumber, x509 } from '../../../src/adapters/crypto/x509'
import { buildChain } from '../../../src/adapters/crypto/x509-chain'
import { createTestApp } from '../../support/app'

/**
 * The region PKI, checked by OpenSSL rather than by the code that made it: the chains verify
 * with `openssl verify -x509_strict`, and the extensions a relying party depends on (basic
 * constraints, key usage, key identifiers, validity) read back as intended.
 */

const identity = { regionCode: '360700', regionName: '赣州市', bureauName: '赣州市行政审批局' }
const generatedAt = new Date()

let pki: RegionPki
let dir: string

function openssl(...args: string[]) {
  const run = spawnSync('openssl', args, { encoding: 'utf8' })
  if (run.error) throw run.error
  return { status: run.status, out: `${run.stdout}${run.stderr}` }
}

function pemFile(name: string, ...certificates: x509.X509Certificate[]): string {
  const path = join(dir, `${name}.pem`)
  writeFileSync(path, certificates.map((c) => c.toString('pem')).join('\n'))
  return path
}

function text(role: PkiRole): string {
  const run = openssl('x509', '-in', pemFile(`text-${role}`, pki[role].certificate), '-noout', '-text', '-nameopt', 'utf8')
  expect(run.status, run.out).toBe(0)
  return run.out
}

/** The lines of one extension in `openssl x509 -text`: its header and its value. */
function extension(role: PkiRole, name: string): { critical: boolean; value: string } | undefined {
  const match = new RegExp(`X509v3 ${name}:( critical)? *\\n\\s+(.+)`).exec(text(role))
  return match ? { critical: Boolean(match[1]), value: match[2]!.trim() } : undefined
}

function verifyChain(leaf: x509.X509Certificate, intermediates: x509.X509Certificate[], root = pki.root.certificate) {
  const args = ['verify', '-x509_strict', '-CAfile', pemFile('ca', root)]
  if (intermediates.length > 0) args.push('-untrusted', pemFile('untrusted', ...intermediates))
  return openssl(...args, pemFile('leaf', leaf))
}

/** A certificate issued by `issuer`, for building chains the PKI must never allow. */
async function issueUnder(issuer: PkiEntry, name: string, ca: boolean, pathLength?: number): Promise<PkiEntry> {
  const keys = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: `C=CN, O=test, CN=${name}`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: ES256,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey!,
    extensions: [
      new x509.BasicConstraintsExtension(ca, pathLength, true),
      new x509.KeyUsagesExtension(ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  })
  return { certificate, privateKey: keys.privateKey }
}

beforeAll(async () => {
  pki = (await completeRegionPki(identity, {}, generatedAt)).pki
  dir = mkdtempSync(join(tmpdir(), 'tongban-pki-'))
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('openssl verify', () => {
  it('is installed', () => {
    expect(openssl('version').out).toMatch(/^OpenSSL 3\./)
  })

  it.each(['document-signer', 'trust-list-signer'] as const)('root → issuing CA → %s verifies (-x509_strict)', (role) => {
    const run = verifyChain(pki[role].certificate, [pki['issuing-ca'].certificate])
    expect(run.status, run.out).toBe(0)
    expect(run.out).toMatch(/: OK\s*$/)
  })

  it('the issuing CA verifies under the root; the root under itself', () => {
    expect(verifyChain(pki['issuing-ca'].certificate, []).status).toBe(0)
    expect(verifyChain(pki.root.certificate, []).status).toBe(0)
  })

  it('the document signer does not verify without its issuing CA, nor under another region’s root', async () => {
    expect(verifyChain(pki['document-signer'].certificate, []).out).toMatch(/unable to get local issuer certificate/)
    const other = (await completeRegionPki({ ...identity, regionCode: '440307' }, {}, generatedAt)).pki
    expect(verifyChain(pki['document-signer'].certificate, [pki['issuing-ca'].certificate], other.root.certificate).status).not.toBe(0)
  })

  it('a certificate "issued" by the document signer is refused: the signer is no CA (openssl and our chain builder agree)', async () => {
    const rogue = await issueUnder(pki['document-signer'], 'rogue', false)
    const run = verifyChain(rogue.certificate, [pki['document-signer'].certificate, pki['issuing-ca'].certificate])
    expect(run.status).not.toBe(0)
    expect(run.out).toMatch(/invalid CA certificate|not a CA/i)
    const chain = await buildChain(rogue.certificate, [pki['document-signer'].certificate, pki['issuing-ca'].certificate], [pki.root.certificate])
    expect(chain.trusted).toBe(false)
  })

  it('a CA under the issuing CA (pathlen:0) cannot issue: openssl reports the path length exceeded', async () => {
    const subCa = await issueUnder(pki['issuing-ca'], 'sub CA', true)
    const leaf = await issueUnder(subCa, 'leaf under sub CA', false)
    const run = verifyChain(leaf.certificate, [subCa.certificate, pki['issuing-ca'].certificate])
    expect(run.status).not.toBe(0)
    expect(run.out).toMatch(/path length constraint exceeded/)
  })

  it('our chain builder also refuses the path through a CA below pathlen:0', async () => {
    const subCa = await issueUnder(pki['issuing-ca'], 'sub CA', true)
    const leaf = await issueUnder(subCa, 'leaf under sub CA', false)
    const chain = await buildChain(leaf.certificate, [subCa.certificate, pki['issuing-ca'].certificate], [pki.root.certificate])
    expect(chain.trusted).toBe(false)
  })
})

describe('the extensions, as openssl reads them', () => {
  it.each([
    ['root', 'CA:TRUE, pathlen:1', 'Certificate Sign, CRL Sign'],
    ['issuing-ca', 'CA:TRUE, pathlen:0', 'Certificate Sign, CRL Sign'],
    ['document-signer', 'CA:FALSE', 'Digital Signature, Non Repudiation'],
    ['trust-list-signer', 'CA:FALSE', 'Digital Signature'],
  ] as const)('%s: basicConstraints %s (critical), keyUsage %s (critical)', (role, constraints, usage) => {
    expect(extension(role, 'Basic Constraints')).toEqual({ critical: true, value: constraints })
    expect(extension(role, 'Key Usage')).toEqual({ critical: true, value: usage })
  })

  it('every certificate has a subject key identifier; every issued one an authority key identifier equal to its issuer’s SKI', () => {
    const ski = (role: PkiRole) => extension(role, 'Subject Key Identifier')?.value
    const aki = (role: PkiRole) => extension(role, 'Authority Key Identifier')?.value.replace(/^keyid:/, '')
    for (const role of ['root', 'issuing-ca', 'document-signer', 'trust-list-signer'] as const) expect(ski(role)).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/)
    expect(aki('issuing-ca')).toBe(ski('root'))
    expect(aki('document-signer')).toBe(ski('issuing-ca'))
    expect(aki('trust-list-signer')).toBe(ski('issuing-ca'))
    // A self-signed root may omit its AKI (RFC 5280 4.2.1.1); if it has one, it names itself.
    expect([undefined, ski('root')]).toContain(aki('root'))
  })

  it('ECDSA P-256 with SHA-256 throughout; subjects carry the region', () => {
    for (const role of ['root', 'issuing-ca', 'document-signer', 'trust-list-signer'] as const) {
      const out = text(role)
      expect(out).toMatch(/Signature Algorithm: ecdsa-with-SHA256/)
      expect(out).toMatch(/ASN1 OID: prime256v1/)
      expect(out).toMatch(/Subject: C ?= ?CN, O ?= ?赣州市行政审批局, CN ?= ?.*360700/)
    }
  })

  it('validity: root 20 years, issuing CA 10, signers 3; each within its issuer, starting just before generation', () => {
    const window = (role: PkiRole) => {
      const run = openssl('x509', '-in', pemFile(`dates-${role}`, pki[role].certificate), '-noout', '-startdate', '-enddate')
      const [, start, end] = /notBefore=(.+)\nnotAfter=(.+)/.exec(run.out)!
      return { from: new Date(start!), until: new Date(end!) }
    }
    const years = (w: { from: Date; until: Date }) => Math.round((w.until.getTime() - w.from.getTime()) / (365.25 * 86_400_000))
    expect(years(window('root'))).toBe(20)
    expect(years(window('issuing-ca'))).toBe(10)
    expect(years(window('document-signer'))).toBe(3)
    expect(years(window('trust-list-signer'))).toBe(3)
    for (const role of ['root', 'issuing-ca', 'document-signer', 'trust-list-signer'] as const) {
      const w = window(role)
      expect(w.from.getTime()).toBeLessThanOrEqual(generatedAt.getTime())
      expect(generatedAt.getTime() - w.from.getTime()).toBeLessThan(5 * 60_000)
    }
    expect(window('issuing-ca').until.getTime()).toBeLessThanOrEqual(window('root').until.getTime())
    expect(window('document-signer').until.getTime()).toBeLessThanOrEqual(window('issuing-ca').until.getTime())
  })
})

describe('the published x5c chain', () => {
  it('GET /v1/jwks: x5c verifies with openssl from the leaf to the root the descriptor names', async () => {
    const t = await createTestApp({ pki })
    try {
      const jwks = (await (await t.request('GET', '/v1/jwks', { token: null })).json()) as { keys: Array<{ x5c: string[] }> }
      const descriptor = (await (await t.request('GET', '/.well-known/tongban', { token: null })).json()) as { root: { sha256: string } }
      const [leaf, issuing, root] = jwks.keys[0]!.x5c.map((der) => new x509.X509Certificate(Buffer.from(der, 'base64')))
      expect(root!.equal(pki.root.certificate)).toBe(true)
      const run = verifyChain(leaf!, [issuing!], root!)
      expect(run.status, run.out).toBe(0)
      const fingerprint = openssl('x509', '-in', pemFile('x5c-root', root!), '-noout', '-fingerprint', '-sha256').out
      expect(fingerprint.split('=')[1]!.trim().replaceAll(':', '').toLowerCase()).toBe(descriptor.root.sha256)
      expect(await certificateFingerprint(root!)).toBe(descriptor.root.sha256)
    } finally {
      await t.close()
    }
  }, 120_000)
})
