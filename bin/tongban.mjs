#!/usr/bin/env node
// The tongban command runs the TypeScript sources directly through tsx, so a clone needs no build step.
// The project's tsconfig is named, not looked up from the working directory: the sources need its
// decorator settings wherever the command is started from.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) })
const { main } = await import('../src/cli/main.ts')
try {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exitCode = code
} catch (error) {
  process.stderr.write(`tongban: ${error?.message ?? error}\n`)
  process.exitCode = 1
}
