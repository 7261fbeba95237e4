#!/usr/bin/env node
// Makes the bundle a running service gets from the full bundle kept offline: the same bundle
// without the private keys of the root and the issuing CA, which stay offline. Reads the full
// bundle on stdin, writes the deployable one on stdout, and says on stderr what it kept.
//
//   node keys/deployable-bundle.mjs < region-pki.json | npx wrangler secret put TONGBAN_PKI
import { createHash } from 'node:crypto'

// Keys that only ever sign certificates, in a ceremony, never a request.
const OFFLINE_ROLES = ['root', 'issuing-ca']
// Keys the running service signs with; without them it refuses to start.
const SIGNING_ROLES = ['document-signer', 'trust-list-signer', 'seal-ca', 'bureau-seal', 'partner-auth', 'attestation-signer']

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
const missing = [...OFFLINE_ROLES, ...SIGNING_ROLES].filter((role) => !bundle.roles[role]?.certificate)
if (missing.length > 0) {
  process.stderr.write(`deployable-bundle: the bundle lacks ${missing.join(', ')}\n`)
  process.exit(1)
}
const keyless = SIGNING_ROLES.filter((role) => !bundle.roles[role].privateKey)
if (keyless.length > 0) {
  process.stderr.write(`deployable-bundle: no private key for ${keyless.join(', ')}; the service cannot sign without it\n`)
  process.exit(1)
}

// Everything else is kept as it is (other roles, other members), so that the bundle a newer
// version of the service needs is never silently cut down; only the offline keys are removed.
const roles = Object.fromEntries(
  Object.entries(bundle.roles).map(([role, entry]) => {
    if (!OFFLINE_ROLES.includes(role)) return [role, entry]
    const { privateKey: _offline, ...rest } = entry
    return [role, rest]
  }),
)
const kept = Object.keys(roles).filter((role) => roles[role].privateKey)
const der = Buffer.from(roles.root.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64')
process.stdout.write(`${JSON.stringify({ ...bundle, roles })}\n`)
process.stderr.write(
  `private keys kept: ${kept.join(', ')}; left out: ${OFFLINE_ROLES.join(', ')}\nroot sha256 ${createHash('sha256').update(der).digest('hex')}\n`,
)
