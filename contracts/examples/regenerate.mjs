#!/usr/bin/env node
// Regenerates the files in contracts/examples/ from a real run: `tongban serve` (what `npm start`
// runs) with a temporary DATA_DIR (fresh keys, embedded PGlite) and a free PORT, driven over HTTP.
//
//   node contracts/examples/regenerate.mjs [repository root, default: this checkout]
//
// Keys are generated afresh on every run, so every signature and fingerprint changes.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

const out = dirname(fileURLToPath(import.meta.url))
const root = resolve(process.argv[2] ?? join(out, '..', '..'))
const PUBLIC_URL = 'https://tongban.360700.example'

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => done(port))
    })
    server.on('error', fail)
  })

const dataDir = await mkdtemp(join(tmpdir(), 'tongban-examples-'))
const port = await freePort()
const base = `http://127.0.0.1:${port}`
const child = spawn(process.execPath, [join(root, 'bin', 'tongban.mjs'), 'serve'], {
  cwd: root,
  env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL, REGION_CODE: '360700', REGION_NAME: '赣州市', DATABASE_URL: '', ADMIN_TOKEN: '', TONGBAN_PKI: '', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
})

async function until(condition, what) {
  for (let i = 0; i < 1800; i += 1) {
    if (child.exitCode !== null) throw new Error(`tongban exited with ${child.exitCode} while waiting for ${what}`)
    try {
      if (await condition()) return
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
const decodeJws = (jws) => {
  const [header, payload] = jws.split('.')
  return { protectedHeader: decodePart(header), payload: decodePart(payload) }
}
const setBits = (encodedList) => {
  const bytes = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'))
  const set = []
  bytes.forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit += 1) if (byte & (0x80 >> bit)) set.push(i * 8 + bit)
  })
  return { bits: bytes.length * 8, set }
}
const writeJson = (name, value) => writeFile(join(out, name), `${JSON.stringify(value, null, 2)}\n`)
const writeText = (name, text) => writeFile(join(out, name), `${text}\n`)

try {
  await until(async () => (await fetch(`${base}/healthz`)).ok, '/healthz')
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
  const call = async (method, path, body, expected = 200) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
    return (response.headers.get('content-type') ?? '').includes('json') ? response.json() : response.text()
  }
  const verify = (credential) => call('POST', '/v1/verify', { credential })

  const active = await call('POST', '/v1/licences', {
    type: 'business-licence',
    holder: { kind: 'enterprise', uscc: '91360702MA0000001P', name: '赣州通办科技有限公司' },
    fields: {
      entityType: '有限责任公司（自然人投资或控股）',
      legalRepresentative: '张三',
      registeredCapital: '伍佰万元整',
      establishedOn: '2026-01-05',
      address: '江西省赣州市章贡区长征大道1号',
      businessScope: '软件开发；信息技术咨询服务',
    },
    validFrom: '2026-01-05',
    validUntil: '2046-01-04',
  }, 201)
  const revoked = await call('POST', '/v1/licences', {
    type: 'food-business-licence',
    holder: { kind: 'enterprise', uscc: '91360702MA0000002T', name: '赣州客家小馆餐饮有限公司' },
    fields: { legalRepresentative: '李四', residence: '江西省赣州市章贡区文清路8号', premises: '江西省赣州市章贡区文清路8号一楼', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' },
    validFrom: '2026-02-01',
    validUntil: '2031-01-31',
  }, 201)
  const suspended = await call('POST', '/v1/licences', {
    type: 'business-licence',
    holder: { kind: 'enterprise', uscc: '92360702MA0000003T', name: '章贡区王五日杂店' },
    fields: { entityType: '个体工商户', legalRepresentative: '王五', establishedOn: '2026-03-01', address: '江西省赣州市章贡区红旗大道20号', businessScope: '日用百货零售' },
    validFrom: '2026-03-01',
    validUntil: '2036-02-28',
  }, 201)
  await call('POST', `/v1/licences/${revoked.id}/revoke`, { reason: '申请人主动注销' })
  await call('POST', `/v1/licences/${suspended.id}/suspend`, { reason: '现场检查发现问题，责令整改' })

  const descriptor = await call('GET', '/.well-known/tongban')
  await writeJson('descriptor.json', descriptor)
  await writeJson('jwks.json', await call('GET', '/v1/jwks'))

  const trustList = await call('GET', '/v1/trust-list')
  await writeText('trust-list.jws', trustList)
  await writeJson('trust-list.json', decodeJws(trustList))

  await writeText('credential.jws', active.credential)
  await writeJson('credential.json', decodeJws(active.credential))
  await writeJson('licence.json', active)

  const statusLists = new Set()
  for (const entry of decodeJws(active.credential).payload.credentialStatus) statusLists.add(entry.statusListCredential.split('/').pop())
  for (const listId of [...statusLists].sort()) {
    const jws = await call('GET', `/v1/status/${listId}`)
    const decoded = decodeJws(jws)
    await writeText(`status-list-${listId}.jws`, jws)
    await writeJson(`status-list-${listId}.json`, { ...decoded, decodedList: setBits(decoded.payload.credentialSubject.encodedList) })
  }

  await writeJson('verification-report.json', await verify(active.credential))
  await writeJson('verification-report-revoked.json', await verify(revoked.credential))
  await writeJson('verification-report-suspended.json', await verify(suspended.credential))
  process.stdout.write(`examples written to ${out}\nroot sha256 ${descriptor.root.sha256}\n`)
} finally {
  child.kill('SIGTERM')
  await new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)))
  await rm(dataDir, { recursive: true, force: true })
}
