import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { importPkiBundle } from '../../src/adapters/crypto/pki-bundle'
import { certificateFingerprint } from '../../src/adapters/crypto/x509'
import { sampleTerms } from './partner-pair'
import { call, startRegionProcess, type RegionOptions, type RegionProcess } from './region-process'

export const GZ = { code: '360700', name: '赣州市' }
export const LG = { code: '440307', name: '深圳市龙岗区' }

/** The SHA-256 fingerprint of a region's root, read from its key bundle (what `tongban keys init` prints). */
export async function rootOf(region: RegionProcess): Promise<string> {
  const pki = await importPkiBundle(JSON.parse(readFileSync(join(region.dataDir, 'keys', 'pki.json'), 'utf8')))
  return certificateFingerprint(pki.root!.certificate)
}

export async function must(answer: Promise<{ status: number; body: unknown }>, expected: number, what: string): Promise<Record<string, unknown>> {
  const { status, body } = await answer
  if (status !== expected) throw new Error(`${what} answered ${status}: ${JSON.stringify(body)}`)
  return body as Record<string, unknown>
}

/**
 * 赣州 and 龙岗 as two real processes that have registered each other and are bound by the
 * sample agreement (赣州 proposes, 龙岗 countersigns), with `terms` changed as the caller needs
 * (a bench raises the rate limit). The step-by-step version, as an operator does it with the
 * CLI, is test/e2e/partnership.e2e.test.ts; this one is for tests and benches that start there.
 */
export async function startPartneredRegions(
  options: { terms?: Record<string, unknown>; gz?: Omit<RegionOptions, 'region'>; lg?: Omit<RegionOptions, 'region'> } = {},
): Promise<{ gz: RegionProcess; lg: RegionProcess }> {
  const [gz, lg] = await Promise.all([startRegionProcess({ ...options.gz, region: GZ }), startRegionProcess({ ...options.lg, region: LG })])
  try {
    await must(call(gz, 'POST', '/v1/admin/partners', { json: { descriptorUrl: `${lg.publicUrl}/.well-known/tongban`, rootFingerprint: await rootOf(lg) } }), 201, 'registering 龙岗 at 赣州')
    await must(call(lg, 'POST', '/v1/admin/partners', { json: { descriptorUrl: `${gz.publicUrl}/.well-known/tongban`, rootFingerprint: await rootOf(gz) } }), 201, 'registering 赣州 at 龙岗')
    const terms = sampleTerms(options.terms)
    await must(call(gz, 'POST', '/v1/admin/agreements', { json: terms }), 201, 'proposing the agreement')
    await must(call(lg, 'POST', `/v1/admin/agreements/${String(terms.id)}/countersignature`), 200, 'countersigning the agreement')
    return { gz, lg }
  } catch (error) {
    await Promise.all([gz.destroy(), lg.destroy()])
    throw error
  }
}
