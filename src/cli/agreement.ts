import { readFile, writeFile } from 'node:fs/promises'
import { addSignature, termsOf } from '../adapters/crypto/agreement-jws'
import { kidOf } from '../adapters/crypto/jws-signer'
import { loadConfig } from '../config'
import { termsProblems, type AgreementTerms, type GeneralJws } from '../core/partner/agreement'
import { loadNodePki } from '../runtime/node-keys'
import { parseArgs } from './args'

const USAGE = 'usage: tongban agreement sign <terms.json | agreement.jws.json> [--out <file>]\n'

/**
 * `tongban agreement sign`: signs an agreement out of band with this region's partner-auth key
 * (from DATA_DIR or TONGBAN_PKI, as the service finds it). Given bare terms it starts the signed
 * document; given a signed document it adds this region's signature over the same payload. The
 * signatures already there are checked by the service when the result is imported
 * (`POST /v1/admin/agreements/import`), against the partner's pinned trust list.
 */
export async function agreementCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv)
  if (positional[0] !== 'sign' || !positional[1]) {
    process.stderr.write(USAGE)
    return 2
  }
  const config = loadConfig(process.env)
  let document: GeneralJws | AgreementTerms
  try {
    document = JSON.parse(await readFile(positional[1], 'utf8')) as GeneralJws | AgreementTerms
  } catch (error) {
    process.stderr.write(`cannot read ${positional[1]}: ${(error as Error).message}\n`)
    return 2
  }
  const signed = 'payload' in document && 'signatures' in document
  let terms: AgreementTerms
  try {
    terms = signed ? termsOf(document as GeneralJws) : (document as AgreementTerms)
  } catch {
    process.stderr.write('the signed document’s payload is not base64url JSON\n')
    return 1
  }
  const problems = termsProblems(terms, config.region.code)
  if (problems.length > 0) {
    process.stderr.write(`the terms are not valid for ${config.region.code}:\n${problems.map((p) => `  ${p.pointer ?? ''} ${p.message}`).join('\n')}\n`)
    return 1
  }
  const identity = { regionCode: config.region.code, regionName: config.region.name, bureauName: config.bureau.name }
  const { pki } = await loadNodePki({ dataDir: config.dataDir, pkiJson: process.env.TONGBAN_PKI }, identity, new Date())
  const key = pki['partner-auth']
  if (!key.privateKey) throw new Error('the PKI bundle has no partner-auth private key')
  const result = await addSignature(document, config.region.code, { keyid: await kidOf(key.certificate), privateKey: key.privateKey })
  const text = `${JSON.stringify(result, null, 2)}\n`
  const out = options.get('out')?.[0]
  if (out) await writeFile(out, text)
  else process.stdout.write(text)
  process.stderr.write(`signed agreement ${terms.id} (${terms.regions.map((r) => `${r.name} ${r.code}`).join(' ⇄ ')}) as ${config.region.code}; import it with POST /v1/admin/agreements/import\n`)
  return 0
}
