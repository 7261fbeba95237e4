#!/usr/bin/env node
// Makes the bundle a running service gets from the full bundle kept offline: every certificate,
// but only the private keys it signs with (document signer, trust-list signer). The root and
// issuing-CA keys stay offline. Reads the full bundle on stdin, writes the deployable one on
// stdout, and says on stderr what it kept.
//
//   node keys/deployable-bundle.mjs < region-pki.json | npx wrangler secret put TONGBAN_PKI
import { createHash } from 'node:crypto'

const SIGNING_ROLES = new Set(['document-signer', 'trust-list-signer'])
const ROLES = ['root', 'issuing-ca', 'document-signer', 'trust-list-signer']

let text = ''
for await (const chunk of process.stdin) text += chunk
let bundle
try {
  bundle = JSON.parse(text)
} catch {
  // Never echo the input: it holds private keys.
  process.stderr.write('deployable-bundle: stdin is not JSON (expected the output of `npx tongban keys init --print`)\n')
  process.exit(1)
}
if (bundle?.version !== 1 || typeof bundle.roles !== 'object' || bundle.roles === null) {
  process.stderr.write('deployable-bundle: not a version 1 PKI bundle\n')
  process.exit(1)
}
const missing = ROLES.filter((role) => !bundle.roles[role]?.certificate)
if (missing.length > 0) {
  process.stderr.write(`deployable-bundle: the bundle lacks ${missing.join(', ')}\n`)
  process.exit(1)
}
const keyless = [...SIGNING_ROLES].filter((role) => !bundle.roles[role].privateKey)
if (keyless.length > 0) {
  process.stderr.write(`deployable-bundle: no private key for ${keyless.join(', ')}; the service cannot sign without it\n`)
  process.exit(1)
}

const roles = Object.fromEntries(
  ROLES.map((role) => {
    const { certificate, privateKey } = bundle.roles[role]
    return [role, SIGNING_ROLES.has(role) ? { certificate, privateKey } : { certificate }]
  }),
)
const der = Buffer.from(roles.root.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64')
process.stdout.write(`${JSON.stringify({ version: 1, roles })}\n`)
process.stderr.write(
  `private keys kept: ${[...SIGNING_ROLES].join(', ')}; left out: root, issuing-ca\nroot sha256 ${createHash('sha256').update(der).digest('hex')}\n`,
)
