import { PostgresUnavailable } from '../test/support/database'
import { benchIssuance, openPgliteCeiling } from './issue'
import { fmt, log, machine, missesTarget, ratioOf, targetText, verdict, type BenchResult } from './support/measure'
import { benchForwarding } from './forwarding'
import { benchPartnerVerify } from './partner-verify'
import { benchPdf } from './pdf'
import { startService } from './support/service'
import { benchVerify } from './verify'
import { benchBankCheck } from './bank-check'

/**
 * `npm run bench`: every bench in sequence, then one table. Each bench holds its rate against a
 * ceiling measured in the same run; a ratio below its target exits non-zero so that a person
 * looks, but benches are never part of the test suite.
 */
const started = performance.now()
log(`tongban benchmarks on ${machine()}`)
const results: BenchResult[] = []
const notes: string[] = []

// One PGlite service serves the verify bench and then the PGlite issuance bench: PGlite's
// first start (initdb) costs seconds, and the verify path never reads the database. The PGlite
// ceiling database starts alongside it, and both are up before anything is measured.
const [service, ceiling] = await Promise.allSettled([startService(), openPgliteCeiling()])
if (service.status === 'rejected' || ceiling.status === 'rejected') {
  if (service.status === 'fulfilled') await service.value.stop().then(() => service.value.removeData())
  if (ceiling.status === 'fulfilled') await ceiling.value.close()
  throw service.status === 'rejected' ? service.reason : (ceiling as PromiseRejectedResult).reason
}
const pglite = service.value
try {
  results.push(await benchVerify(pglite))
  results.push(await benchBankCheck(pglite))
} catch (error) {
  await pglite.stop()
  await pglite.removeData()
  await ceiling.value.close()
  throw error
}
results.push(await benchIssuance('pglite', { service: pglite, ceiling: ceiling.value }))
try {
  results.push(await benchIssuance('postgresql'))
} catch (error) {
  if (!(error instanceof PostgresUnavailable)) throw error
  notes.push(`issue (postgresql): skipped: ${error.message}`)
  log(`issue (postgresql): skipped: ${error.message}`)
}
// Two partnered regions of their own, started and stopped by the bench.
results.push(await benchPartnerVerify())
results.push(await benchForwarding())
// In process, after the services have stopped: licence PDFs signed and verified on the real deps.
results.push(...(await benchPdf()))

const rows = results.map((r) => [
  r.name,
  `${fmt(r.rate)} ${r.unit}`,
  r.ceilingUnit ? `${fmt(r.ceiling)} ${r.ceilingUnit}` : `${fmt(r.ceiling)}/s`,
  r.ceilingName,
  ratioOf(r).toFixed(2),
  r.target === undefined ? '—' : `${targetText(r)} ${verdict(r)}`,
])
const header = ['bench', 'rate', 'ceiling', 'ceiling is', 'ratio', 'target']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)))
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()
log('')
log(line(header))
log(line(widths.map((w) => '-'.repeat(w))))
for (const row of rows) log(line(row))
for (const note of notes) log(note)
log(`\n${((performance.now() - started) / 1000).toFixed(0)} s in all`)
if (results.some(missesTarget)) process.exitCode = 1
