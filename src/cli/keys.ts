import { completeRegionPki } from '../adapters/crypto/pki'
import { exportPkiBundle, withSealKek } from '../adapters/crypto/pki-bundle'
import { certificateFingerprint } from '../adapters/crypto/x509'
import { loadConfig } from '../config'
import { loadNodePki } from '../runtime/node-keys'
import { parseArgs } from './args'

/** `tongban keys init [--print]`: creates the region's keys in DATA_DIR, or prints a new bundle for a secret store. */
export async function keysCommand(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv)
  if (positional[0] !== 'init') {
    process.stderr.write('usage: tongban keys init [--print]\n')
    return 2
  }
  const config = loadConfig(process.env)
  const identity = { regionCode: config.region.code, regionName: config.region.name, bureauName: config.bureau.name }
  if (flags.has('print')) {
    const { pki } = await completeRegionPki(identity, {}, new Date())
    process.stdout.write(`${JSON.stringify(withSealKek(await exportPkiBundle(pki)).bundle)}\n`)
    process.stderr.write(`root sha256 ${await certificateFingerprint(pki.root.certificate)}\n`)
    return 0
  }
  const { pki, generated, source } = await loadNodePki({ dataDir: config.dataDir, pkiJson: undefined }, identity, new Date())
  process.stdout.write(`${generated.length > 0 ? `generated ${generated.join(', ')}` : 'keys already present'} in ${source}\n`)
  process.stdout.write(`root sha256 ${await certificateFingerprint(pki.root.certificate)}\n`)
  return 0
}
