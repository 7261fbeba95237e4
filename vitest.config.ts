import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files wait on child processes, PGlite and pdfsig as much as they compute, so two run
    // side by side even on two cores (vitest's default would be one there).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/support/pglite-template.ts'],
    reporters: ['default'],
  },
})
