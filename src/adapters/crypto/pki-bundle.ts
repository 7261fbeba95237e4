import { PKI_ROLES, type PkiEntry, type PkiRole, type RegionPki } from './pki'
import { ES256, fromBase64, toBase64, x509 } from './x509'

/**
 * The PKI's portable form: JSON with PEM certificates and PKCS#8 PEM private keys. It is what
 * `DATA_DIR/keys/pki.json` holds in development and what the `TONGBAN_PKI` secret holds in
 * production (see keys/README.md).
 */
export interface PkiBundle {
  version: 1
  roles: Partial<Record<PkiRole, { certificate: string; privateKey?: string }>>
  /** Base64 AES-256 key that encrypts the seals' private keys at rest in the database. */
  sealKek?: string
}

/** The bundle's seal key-encryption key, made when the bundle has none yet. */
export function withSealKek(bundle: PkiBundle): { bundle: PkiBundle; created: boolean } {
  if (bundle.sealKek) return { bundle, created: false }
  return { bundle: { ...bundle, sealKek: toBase64(crypto.getRandomValues(new Uint8Array(32))) }, created: true }
}

export function sealKekBytes(bundle: PkiBundle): Uint8Array {
  const kek = bundle.sealKek ? fromBase64(bundle.sealKek) : new Uint8Array()
  if (kek.length !== 32) throw new Error('the PKI bundle has no 32-byte sealKek')
  return kek
}

function pem(label: string, der: ArrayBuffer): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

function derFromPem(text: string, label: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text)
  if (!match) throw new Error(`expected a PEM ${label}`)
  return fromBase64((match[1] as string).replace(/\s+/g, ''))
}

/** Adds freshly generated roles to a bundle; the roles it already holds are kept as they are. */
export async function extendPkiBundle(bundle: PkiBundle, pki: Partial<RegionPki>, roles: PkiRole[]): Promise<PkiBundle> {
  const added = await exportPkiBundle(Object.fromEntries(roles.map((role) => [role, pki[role]])))
  return { ...bundle, version: 1, roles: { ...bundle.roles, ...added.roles } }
}

export async function exportPkiBundle(pki: Partial<RegionPki>): Promise<PkiBundle> {
  const roles: PkiBundle['roles'] = {}
  for (const role of PKI_ROLES) {
    const entry = pki[role]
    if (!entry) continue
    roles[role] = {
      certificate: entry.certificate.toString('pem'),
      ...(entry.privateKey ? { privateKey: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', entry.privateKey)) } : {}),
    }
  }
  return { version: 1, roles }
}

export async function importPkiBundle(bundle: PkiBundle): Promise<Partial<RegionPki>> {
  if (bundle?.version !== 1 || typeof bundle.roles !== 'object') throw new Error('not a version 1 PKI bundle')
  const pki: Partial<RegionPki> = {}
  for (const role of PKI_ROLES) {
    const stored = bundle.roles[role]
    if (!stored) continue
    const entry: PkiEntry = {
      certificate: new x509.X509Certificate(stored.certificate),
      privateKey: stored.privateKey
        // Loaded keys are never extractable: a bundle is only ever extended with new roles.
        ? await crypto.subtle.importKey('pkcs8', derFromPem(stored.privateKey, 'PRIVATE KEY') as BufferSource, ES256, false, ['sign'])
        : undefined,
    }
    pki[role] = entry
  }
  return pki
}
