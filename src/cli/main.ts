import { startNodeServer } from '../runtime/node'

const USAGE = `tongban — licences and seals for an administrative approval bureau

usage:
  tongban serve                 start the service (configuration from the environment; see README)
  tongban keys init             create the region's keys in DATA_DIR (or print a bundle with --print)
  tongban verify <jws|file> --trust-list <file> --root <sha256>
                                verify a licence credential offline against a saved trust list
  tongban agreement sign <file> [--out <file>]
                                sign agreement terms (or countersign a signed agreement) with the
                                region's partner-auth key, out of band
`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve': {
      const service = await startNodeServer()
      const stop = () => {
        service.close().then(() => process.exit(0), () => process.exit(1))
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      return -1
    }
    case 'keys':
      return (await import('./keys')).keysCommand(rest)
    case 'agreement':
      return (await import('./agreement')).agreementCommand(rest)
    case 'verify':
      return (await import('./verify')).verifyCommand(rest)
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE)
      return 0
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}`)
      return 2
  }
}
