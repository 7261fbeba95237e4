#!/usr/bin/env node
// The tongban command runs the TypeScript sources directly through tsx, so a clone needs no build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
try {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exitCode = code
} catch (error) {
  process.stderr.write(`tongban: ${error?.message ?? error}\n`)
  process.exitCode = 1
}
