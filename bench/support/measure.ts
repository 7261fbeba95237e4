import autocannon, { type Options, type Result } from 'autocannon'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** One line of the summary: a measured rate, the ceiling it is held against, and their ratio. */
export interface BenchResult {
  name: string
  rate: number
  unit: string
  ceilingName: string
  ceiling: number
  /** How the ceiling is printed; per second unless given. */
  ceilingUnit?: string
  /** A ratio on the wrong side of it makes `npm run bench` exit non-zero; benches without one only report. */
  target?: number
  /**
   * The ratio is a cost held against its floor (e.g. time per document against the time of the
   * part it cannot do without): it must stay at or below the target. Otherwise at or above.
   */
  atMost?: boolean
}

export const ratioOf = (result: BenchResult) => result.rate / result.ceiling
export const missesTarget = (result: BenchResult) =>
  result.target !== undefined && (result.atMost ? ratioOf(result) > result.target : ratioOf(result) < result.target)
/** PASS, or BELOW (ABOVE for an at-most target) when the ratio misses its target. */
export const verdict = (result: BenchResult) => (!missesTarget(result) ? 'PASS' : result.atMost ? 'ABOVE' : 'BELOW')
/** The target as the summary prints it: `≥ 0.50` or `≤ 1.50`. */
export const targetText = (result: BenchResult) => (result.target === undefined ? '—' : `${result.atMost ? '≤' : '≥'} ${result.target.toFixed(2)}`)

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function fmt(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1)
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`)
}

/**
 * Runs `op` from `concurrency` loops until `durationMs` has passed and counts completed ops.
 * With concurrency 1 it is the plain sequential rate; more in flight lets WebCrypto's thread
 * pool work in parallel, as it does for the HTTP server under concurrent load.
 */
export async function countOf(durationMs: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  let ops = 0
  let next = 0
  const cpu = ownCpuSeconds()
  const start = performance.now()
  const end = start + durationMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(next++)
        ops++
      }
    }),
  )
  return { ops, seconds: (performance.now() - start) / 1000, cpuSeconds: ownCpuSeconds() - cpu }
}

export async function rateOf(durationMs: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const { ops, seconds } = await countOf(durationMs, concurrency, op)
  return ops / seconds
}

/** autocannon against the service; any error, timeout or non-2xx answer spoils the measurement. */
export async function load(options: Options): Promise<{ rate: number; result: Result }> {
  const result = await autocannon({ timeout: 30, pipelining: 1, ...options })
  const bad = result.errors + result.timeouts + result.non2xx
  if (bad > 0) {
    const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => `${count}× ${status}`).join(', ')
    throw new Error(`${options.method ?? 'GET'} ${options.url}: ${result.errors} errors, ${result.timeouts} timeouts, answers ${statuses || 'none'}`)
  }
  return { rate: result['2xx'] / result.duration, result }
}

export function machine(): string {
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU'
  return `${availableParallelism()} cores (${cpu}), Node ${process.versions.node}, ${process.platform}`
}

/** The 1-minute load average against the cores: other work on the machine skews absolute rates (ratios less so). */
export function loadNote(): string {
  const [one] = loadavg()
  const cores = availableParallelism()
  return `load average ${one?.toFixed(2)} on ${cores} cores${(one ?? 0) > cores ? ' (busy machine: absolute rates are low and noisy; the ratios are measured side by side)' : ''}`
}

export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href
}

/**
 * CPU seconds (user + system, every thread) used so far by process `pid`, from /proc; undefined
 * where there is no /proc. Rates per CPU-second hold still when other work shares the machine,
 * where rates per wall-clock second do not.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

/**
 * CPU seconds (user + system) used so far by this process's children that have exited and been
 * waited for (cutime and cstime in /proc/self/stat): what execFile'd tools cost. 0 without /proc.
 */
export function childCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // cutime and cstime are fields 16 and 17 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[13]) + Number(fields[14])) / 100
  } catch {
    return 0
  }
}

/** CPU seconds (user + system, every thread) used so far by this process. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}
