import { CompactSign, generateKeyPair } from 'jose'
import postgres from 'postgres'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPgliteClient } from '../src/adapters/postgres/pglite-client'
import { createPostgresClient } from '../src/adapters/postgres/postgres-client'
import { migrate } from '../src/adapters/postgres/migrations'
import type { SqlClient } from '../src/adapters/postgres/sql-client'
import { createScratchDatabase } from '../test/support/database'
import { businessLicenceRequest } from '../test/support/fixtures'
import { countOf, fmt, isMain, load, loadNote, log, rateOf, ratioOf, type BenchResult } from './support/measure'
import { startService, type Service } from './support/service'
import { issueOne, verifyLoad } from './verify'

/**
 * Licences issued per second through POST /v1/licences, on PGlite and on PostgreSQL.
 *
 * Ceiling: the database's rate for the one write an issuance cannot do without — one
 * transaction holding one INSERT of a licence row of the same shape and size (the same holder
 * and fields JSON, the credential just issued) into a `licences` table made by the service's own
 * migrations (same indexes, constraints and foreign keys), through the project's SqlClient
 * adapter over the same driver, with as many transactions in flight as the load has connections.
 * PGlite: a second PGlite with its files in a temporary folder, like the service's; PostgreSQL:
 * a schema of its own in the bench database, over a pool the size of the service's.
 *
 * The endpoint also allocates a serial and two status-list slots, signs the credential (ES256),
 * writes an event row and answers over HTTP, so its ratio says how much of the database's write
 * rate an issuance keeps. There is no target: it is watched, not gated. The raw ES256 signing
 * rate is printed beside it as context, since signing is the other unavoidable cost.
 */
const CONNECTIONS = 16
const WARM_UP_S = 2.5
const ROUNDS = 3
const ENDPOINT_S = 2
const CEILING_MS = 1000
const MIXED_S = 2.5

export type DatabaseKind = 'pglite' | 'postgresql'

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** A database of its own in the PostgreSQL at `url`, dropped again by `drop`. */
export function createBenchDatabase(url: string) {
  return createScratchDatabase(url, 'tongban_bench')
}

export interface CeilingDatabase {
  db: SqlClient
  close(): Promise<void>
}

/** An empty PGlite in a temporary folder, for the PGlite ceiling; its first start (initdb) takes seconds. */
export async function openPgliteCeiling(): Promise<CeilingDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'tongban-bench-ceiling-'))
  const db = await createPgliteClient(dir)
  return {
    db,
    async close() {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function openPostgresCeiling(url: string): Promise<CeilingDatabase> {
  const setup = postgres(url, { max: 1, onnotice: () => {} })
  await setup.unsafe('CREATE SCHEMA ceiling')
  await setup.end()
  // createPostgresClient's default pool, as the service has.
  const db = createPostgresClient({ url, schema: 'ceiling', max: 10 })
  return { db, close: () => db.close() }
}

function issueLoad(service: Service, duration: number, connections = CONNECTIONS) {
  return load({
    url: `${service.url}/v1/licences`,
    method: 'POST',
    headers: { authorization: `Bearer ${service.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(businessLicenceRequest()),
    connections,
    duration,
  })
}

/** Migrates the ceiling database and returns one ceiling transaction: the i-th licence row, shaped like `credential`'s. */
async function ceilingInsert(db: SqlClient, credential: string): Promise<(i: number) => Promise<unknown>> {
  await migrate(db)
  await db.query(`INSERT INTO status_lists (id, purpose, size) VALUES ('r1', 'revocation', 1000000000), ('s1', 'suspension', 1000000000)`)
  const request = businessLicenceRequest()
  const holder = JSON.stringify(request.holder)
  const fields = JSON.stringify(request.fields)
  const validFrom = new Date(request.validFrom)
  const validUntil = new Date(request.validUntil)
  let serial = 0
  return () => {
    const n = serial++
    return db.transaction((tx) =>
      tx.query(
        `INSERT INTO licences (id, number, serial, version, type_key, type_code, holder, holder_key, fields, valid_from, valid_until,
           status, status_reason, revocation_list, revocation_index, suspension_list, suspension_index, issued_at, credential)
         VALUES ($1, $2, $3, 1, 'business-licence', '1100', $4::jsonb, $5, $6::jsonb, $7, $8, 'active', NULL, 'r1', $9, 's1', $9, $10, $11)`,
        [crypto.randomUUID(), `ceiling-${n}`, String(n).padStart(8, '0'), holder, `uscc:${request.holder.uscc}`, fields, validFrom, validUntil, n, new Date(), credential],
      ),
    )
  }
}

/** ES256 signing of a payload of the credential's size, as context for the issuance rate. */
async function signingRate(credential: string): Promise<number> {
  const { privateKey } = await generateKeyPair('ES256')
  const payload = new Uint8Array(Buffer.from(credential.split('.')[1] ?? '', 'base64url'))
  const sign = () => new CompactSign(payload).setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', kid: 'bench' }).sign(privateKey)
  await rateOf(200, CONNECTIONS, sign)
  return rateOf(700, CONNECTIONS, sign)
}

/**
 * Measures one database. `npm run bench` hands over the PGlite service the verify bench used
 * and a PGlite ceiling opened while that service started; this bench stops and removes both.
 * Without them it starts its own, side by side.
 */
export async function benchIssuance(kind: DatabaseKind, given: { service?: Service; ceiling?: CeilingDatabase } = {}): Promise<BenchResult> {
  log(`issue (${kind}): ${loadNote()}`)
  let database: Awaited<ReturnType<typeof createBenchDatabase>> | undefined
  let service = given.service
  let ceilingPending = given.ceiling ? Promise.resolve(given.ceiling) : undefined
  let ceilingDb: CeilingDatabase | undefined
  try {
    if (kind === 'postgresql') {
      database = await createBenchDatabase(process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL)
      service = await startService({ DATABASE_URL: database.url })
      ceilingDb = await openPostgresCeiling(database.url)
    } else {
      ceilingPending ??= openPgliteCeiling()
      service ??= await startService()
      ceilingDb = await ceilingPending
    }
    const sample = await issueOne(service)
    const insert = await ceilingInsert(ceilingDb.db, sample.credential)

    await issueLoad(service, WARM_UP_S)
    await rateOf(1000, CONNECTIONS, insert)
    // Rounds alternate endpoint and ceiling, so a burst of other work on the machine falls on both.
    const endpoint = { issued: 0, seconds: 0 }
    const ceiling = { ops: 0, seconds: 0 }
    const rounds: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const { rate, result } = await issueLoad(service, ENDPOINT_S)
      endpoint.issued += result['2xx']
      endpoint.seconds += result.duration
      const counted = await countOf(CEILING_MS, CONNECTIONS, insert)
      ceiling.ops += counted.ops
      ceiling.seconds += counted.seconds
      rounds.push(`${(rate / (counted.ops / counted.seconds)).toFixed(2)} (${fmt(rate)}/${fmt(counted.ops / counted.seconds)})`)
    }

    const [mixedIssue, mixedVerify] = await Promise.all([
      issueLoad(service, MIXED_S, CONNECTIONS / 2),
      verifyLoad(service, sample.credential, CONNECTIONS / 2, MIXED_S),
    ])
    const signing = await signingRate(sample.credential)

    const result: BenchResult = {
      name: `issue (${kind})`,
      rate: endpoint.issued / endpoint.seconds,
      unit: 'licences/s',
      ceilingName: `INSERT of a licence row, one per transaction, ${CONNECTIONS} in flight`,
      ceiling: ceiling.ops / ceiling.seconds,
    }
    log(`issue (${kind}): ratio per round (endpoint/raw): ${rounds.join(', ')}`)
    log(`issue (${kind}): while verifying too, ${fmt(mixedIssue.rate)} licences/s and ${fmt(mixedVerify.rate)} verifications/s (${CONNECTIONS / 2} connections each)`)
    log(`issue (${kind}): raw ES256 signing ${fmt(signing)} ops/s (context)`)
    log(`issue (${kind}): endpoint ${fmt(result.rate)} licences/s, raw INSERT transactions ${fmt(result.ceiling)}/s, ratio ${ratioOf(result).toFixed(2)} (no target)`)
    return result
  } finally {
    await service?.stop()
    await service?.removeData()
    await (ceilingDb ?? (await ceilingPending?.catch(() => undefined)))?.close()
    await database?.drop()
  }
}

if (isMain(import.meta.url)) {
  const kinds = (process.argv[2] ? [process.argv[2]] : ['pglite', 'postgresql']) as DatabaseKind[]
  for (const kind of kinds) await benchIssuance(kind)
}
