import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PartnerRegistry } from '../adapters/partner/partner-registry'
import type { Logger } from '../http/deps'

export interface PartnerPin {
  file: string
  code: string
  descriptorUrl: string
  rootSha256: string
}

/** The pinned partner roots kept as reviewed public records in a folder (keys/partners/README.md); a malformed file stops the start. */
export async function readPartnerPins(dir: string): Promise<PartnerPin[]> {
  const pins: PartnerPin[] = []
  for (const name of (await readdir(dir)).filter((n) => /^\d{6}\.json$/.test(n)).sort()) {
    const file = join(dir, name)
    const pin = JSON.parse(await readFile(file, 'utf8')) as { region?: { code?: unknown }; descriptorUrl?: unknown; rootSha256?: unknown }
    const code = pin.region?.code
    if (code !== name.slice(0, 6) || typeof pin.descriptorUrl !== 'string' || !URL.canParse(pin.descriptorUrl) || typeof pin.rootSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(pin.rootSha256)) {
      throw new Error(`${file}: a pin names region.code (its file name), descriptorUrl and rootSha256 (64 lower-case hex digits)`)
    }
    pins.push({ file, code, descriptorUrl: pin.descriptorUrl, rootSha256: pin.rootSha256 })
  }
  return pins
}

/**
 * Registers each pinned partner not registered yet. A partner that cannot be reached now is
 * tried again on the next call (the refresh schedule calls this too); one registered with
 * another pin is left alone and logged, since a changed pin is agreed out of band.
 */
export async function registerPinnedPartners(pins: PartnerPin[], registry: PartnerRegistry, log: Logger): Promise<void> {
  const registered = new Map((await registry.list()).map((p) => [p.code, p.rootSha256]))
  for (const pin of pins) {
    const known = registered.get(pin.code)
    if (known === pin.rootSha256) continue
    if (known) {
      log.warn({ partner: pin.code, file: pin.file }, 'the pinned root differs from the registered one; re-register the partner if its root was re-keyed')
      continue
    }
    try {
      await registry.register(pin.descriptorUrl, pin.rootSha256)
      log.info({ partner: pin.code, file: pin.file }, 'pinned partner registered')
    } catch (error) {
      log.warn({ partner: pin.code, problem: (error as Error).message }, 'pinned partner not registered yet; will retry')
    }
  }
}
