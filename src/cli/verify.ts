import { readFile } from 'node:fs/promises'
import { compactVerify, decodeProtectedHeader } from 'jose'
import { trustedSignersOf, verifyTrustList } from '../adapters/crypto/trust-list'
import { MemoryTrustStore } from '../adapters/memory/trust-store'
import type { StatusBit, StatusSource } from '../core/ports'
import { Bitstring } from '../core/status/bitstring'
import { verifyCredential } from '../core/verification/verify-credential'
import { parseArgs } from './args'

async function textOf(argument: string): Promise<string> {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(argument) ? argument : (await readFile(argument, 'utf8')).trim()
}

/** Status lists given on the command line, each checked against the trust list's signers before use. */
async function offlineStatus(trust: MemoryTrustStore, files: string[]): Promise<StatusSource> {
  const lists = new Map<string, Bitstring>()
  for (const file of files) {
    const jws = await textOf(file)
    const signer = trust.findSigner(String(decodeProtectedHeader(jws).kid))
    if (!signer) throw new Error(`${file}: not signed by a signer of the trust list`)
    const { payload } = await compactVerify(jws, signer.publicKey, { algorithms: [signer.alg] })
    const credential = JSON.parse(new TextDecoder().decode(payload))
    if (new Date(credential.validUntil) < new Date()) throw new Error(`${file}: the status list expired at ${credential.validUntil}`)
    lists.set(credential.id, await Bitstring.decode(credential.credentialSubject.encodedList))
  }
  return {
    statusBit(url: string, index: number): StatusBit {
      const list = lists.get(url)
      if (!list) return { known: false, reason: `offline: no status list ${url} given (--status-list)` }
      return index < list.size ? { known: true, set: list.get(index) } : { known: false, reason: 'index outside the status list' }
    },
  }
}

/** `tongban verify <jws|file> --trust-list <file> --root <sha256> [--status-list <file>]… [--at <time>]` */
export async function verifyCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv)
  const trustListFile = options.get('trust-list')?.[0]
  const root = options.get('root')?.[0]
  if (!positional[0] || !trustListFile || !root) {
    process.stderr.write('usage: tongban verify <jws|file> --trust-list <file> --root <sha256 of the root certificate> [--status-list <file>]… [--at <ISO time>]\n')
    return 2
  }
  const at = options.get('at')?.[0] ? new Date(options.get('at')?.[0] as string) : new Date()
  const list = await verifyTrustList(await textOf(trustListFile), root, new Date())
  const trust = new MemoryTrustStore()
  trust.replaceRegion(list.region.code, await trustedSignersOf(list))
  const status = await offlineStatus(trust, options.get('status-list') ?? [])
  const report = await verifyCredential({ trust, status }, await textOf(positional[0]), { at })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  return report.indication === 'TOTAL_PASSED' ? 0 : 1
}
