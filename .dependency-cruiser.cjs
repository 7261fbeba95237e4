/**
 * The layering of DESIGN.md, enforced on every `npm test`: the core is pure, adapters implement
 * its ports, http builds on the core, and only runtime entries (and the CLI) know every layer.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'src/core imports no adapter, http, runtime or cli module, and no Node built-in',
      severity: 'error',
      from: { path: '^src/core' },
      to: { path: ['^src/(adapters|http|runtime|cli)', '^src/config'] },
    },
    {
      name: 'core-has-no-node-builtins',
      severity: 'error',
      from: { path: '^src/core' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-has-no-database-or-http-packages',
      severity: 'error',
      from: { path: '^src/core' },
      to: { path: 'node_modules/(postgres|@electric-sql|hono|@hono|pino|node-forge)/' },
    },
    {
      name: 'adapters-do-not-know-http-or-runtime',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/(http|runtime|cli)' },
    },
    {
      name: 'http-does-not-know-runtime',
      severity: 'error',
      from: { path: '^src/http' },
      to: { path: '^src/(runtime|cli)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: 'node_modules' },
  },
}
