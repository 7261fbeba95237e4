import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { completeRegionPki, type PkiIdentity, type PkiRole, type RegionPki } from '../adapters/crypto/pki'
import { extendPkiBundle, importPkiBundle, sealKekBytes, withSealKek, type PkiBundle } from '../adapters/crypto/pki-bundle'

/**
 * Where the Node runtime finds the region's keys: the TONGBAN_PKI environment variable (the
 * bundle as JSON, from a secret store) or, in development, DATA_DIR/keys/pki.json, which is
 * created on first start. Keys given through the environment are never written to disk.
 */
export function pkiFilePath(dataDir: string): string {
  return join(dataDir, 'keys', 'pki.json')
}

async function readBundle(path: string): Promise<PkiBundle | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PkiBundle
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`cannot read the PKI bundle ${path}: ${(error as Error).message}`)
  }
}

async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, path)
}

export async function loadNodePki(
  options: { dataDir: string; pkiJson: string | undefined },
  identity: PkiIdentity,
  now: Date,
): Promise<{ pki: RegionPki; sealKek: Uint8Array; generated: PkiRole[]; source: string }> {
  if (options.pkiJson) {
    const bundle = JSON.parse(options.pkiJson) as PkiBundle
    const { pki, generated } = await completeRegionPki(identity, await importPkiBundle(bundle), now)
    if (generated.length > 0) throw new Error(`TONGBAN_PKI lacks ${generated.join(', ')}; run \`npx tongban keys init\` and store the result`)
    return { pki, sealKek: sealKekBytes(bundle), generated, source: 'TONGBAN_PKI' }
  }
  const path = pkiFilePath(options.dataDir)
  const stored = (await readBundle(path)) ?? { version: 1, roles: {} }
  const { bundle, created } = withSealKek(stored)
  const { pki, generated } = await completeRegionPki(identity, await importPkiBundle(bundle), now)
  if (generated.length > 0 || created) await writePrivateFile(path, `${JSON.stringify(await extendPkiBundle(bundle, pki, generated), null, 2)}\n`)
  return { pki, sealKek: sealKekBytes(bundle), generated, source: path }
}

/** The development admin token: generated once, kept in DATA_DIR/admin-token. */
export async function developmentAdminToken(dataDir: string): Promise<{ token: string; created: boolean; path: string }> {
  const path = join(dataDir, 'admin-token')
  try {
    return { token: (await readFile(path, 'utf8')).trim(), created: false, path }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
  await writePrivateFile(path, `${token}\n`)
  return { token, created: true, path }
}
