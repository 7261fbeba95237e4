import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/tongban.mjs', import.meta.url))

it('runs from any working directory, as an installed command is run', async () => {
  const elsewhere = await mkdtemp(join(tmpdir(), 'tongban-cwd-'))
  try {
    const run = spawnSync(process.execPath, [BIN, 'keys', 'init'], {
      cwd: elsewhere,
      env: { ...process.env, DATA_DIR: join(elsewhere, 'data'), DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^root sha256 [0-9a-f]{64}$/m)
  } finally {
    await rm(elsewhere, { recursive: true, force: true })
  }
}, 90_000)
