/** Splits `--name value` options from positional arguments; repeated options collect every value. */
export function parseArgs(argv: string[]): { positional: string[]; options: Map<string, string[]>; flags: Set<string> } {
  const positional: string[] = []
  const options = new Map<string, string[]>()
  const flags = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) flags.add(arg.slice(2))
    else {
      options.set(arg.slice(2), [...(options.get(arg.slice(2)) ?? []), next])
      i++
    }
  }
  return { positional, options, flags }
}
