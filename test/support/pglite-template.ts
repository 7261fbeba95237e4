import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A file holding the data directory of an empty PGlite cluster, for test databases to start from. */
    pgliteTemplate: string | undefined
  }
}

/**
 * Vitest global set-up: runs initdb once for the whole run instead of once per test database.
 * Each in-memory test database then starts from a copy of the same empty cluster, as fresh as
 * one made by initdb (no migration has run in it) and in about half the time.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('pgliteTemplate', undefined)
    return async () => {}
  }
  const dir = await mkdtemp(join(tmpdir(), 'tongban-pglite-template-'))
  const file = join(dir, 'empty-cluster.tar')
  const db = await PGlite.create()
  await writeFile(file, Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()))
  await db.close()
  project.provide('pgliteTemplate', file)
  return () => rm(dir, { recursive: true, force: true })
}
