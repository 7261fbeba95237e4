import { describe, expect, it } from 'vitest'
import { developmentBureauUscc, loadConfig } from '../src/config'
import { ConfigurationError } from '../src/core/errors'
import { usccProblem } from '../src/core/licence/uscc'

function configError(env: Record<string, string | undefined>): ConfigurationError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('has defaults for a trial run on 127.0.0.1:8080 in 赣州市', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      region: { code: '360700', name: '赣州市' },
      bureau: { name: '赣州市行政审批局', uscc: '11360700MB00000015' },
      dataDir: './data',
      databaseUrl: undefined,
      adminToken: undefined,
      logLevel: 'info',
      partnerRefreshSeconds: 3600,
      partnerStatusMaxAgeSeconds: 60,
      partnerPinsDir: undefined,
      outboxRetryBaseSeconds: 2,
      outboxRetryCapSeconds: 300,
      supervisionSystems: [],
    })
  })

  it('derives a valid development credit code from the region', () => {
    for (const region of ['360700', '440307', '370115', '510114', '420324']) {
      const uscc = developmentBureauUscc(region)
      expect(uscc).toMatch(new RegExp(`^11${region}MB0000001[0-9A-Z]$`))
      expect(usccProblem(uscc)).toBeUndefined()
    }
  })

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9443',
      PUBLIC_URL: 'https://tongban.longgang.example/',
      REGION_CODE: '440307',
      REGION_NAME: '深圳市龙岗区',
      BUREAU_NAME: '深圳市龙岗区政务服务数据管理局',
      BUREAU_USCC: '91350100M000100Y43',
      DATA_DIR: '/var/lib/tongban',
      DATABASE_URL: 'postgresql://tongban@db:5432/tongban',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      LOG_LEVEL: 'warn',
      PARTNER_REFRESH_S: '600',
      PARTNER_STATUS_MAX_AGE_S: '5',
      PARTNER_PINS_DIR: 'keys/partners',
      OUTBOX_RETRY_BASE_S: '1',
      OUTBOX_RETRY_CAP_S: '60',
      SUPERVISION_SYSTEMS: JSON.stringify([{ name: '龙岗区市场监督管理局', webhookUrl: 'https://jg.longgang.example/events', publicKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }]),
    })
    expect(config).toEqual({
      port: 9443,
      publicUrl: 'https://tongban.longgang.example',
      region: { code: '440307', name: '深圳市龙岗区' },
      bureau: { name: '深圳市龙岗区政务服务数据管理局', uscc: '91350100M000100Y43' },
      dataDir: '/var/lib/tongban',
      databaseUrl: 'postgresql://tongban@db:5432/tongban',
      adminToken: 'a-long-enough-admin-token',
      logLevel: 'warn',
      partnerRefreshSeconds: 600,
      partnerStatusMaxAgeSeconds: 5,
      partnerPinsDir: 'keys/partners',
      outboxRetryBaseSeconds: 1,
      outboxRetryCapSeconds: 60,
      supervisionSystems: [{ name: '龙岗区市场监督管理局', webhookUrl: 'https://jg.longgang.example/events', publicKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }],
    })
  })

  it('names a SUPERVISION_SYSTEMS that is not JSON or not a list of systems, and a cap below the base is raised to it', () => {
    expect(configError({ SUPERVISION_SYSTEMS: '[{' }).message).toMatch(/SUPERVISION_SYSTEMS: must be a JSON array/)
    expect(configError({ SUPERVISION_SYSTEMS: JSON.stringify([{ name: 'x', webhookUrl: 'ftp://x' , publicKey: {} }]) }).message).toMatch(/SUPERVISION_SYSTEMS\.0\.webhookUrl/)
    expect(configError({ OUTBOX_RETRY_BASE_S: '0' }).message).toMatch(/OUTBOX_RETRY_BASE_S/)
    expect(loadConfig({ OUTBOX_RETRY_BASE_S: '30', OUTBOX_RETRY_CAP_S: '5' }).outboxRetryCapSeconds).toBe(30)
  })

  it('treats empty variables as unset, and names the bureau after the region', () => {
    const config = loadConfig({ PORT: '', ADMIN_TOKEN: '', REGION_CODE: '440307', REGION_NAME: '深圳市龙岗区', DATABASE_URL: undefined })
    expect(config.port).toBe(8080)
    expect(config.adminToken).toBeUndefined()
    expect(config.bureau).toEqual({ name: '深圳市龙岗区行政审批局', uscc: developmentBureauUscc('440307') })
  })

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/usr/bin', NODE_ENV: 'test' })).not.toThrow()
  })

  it.each([
    ['PORT', 'abc', /PORT: must be a TCP port number, 1 to 65535/],
    ['PARTNER_REFRESH_S', '30', /PARTNER_REFRESH_S: must be a whole number of seconds, at least 60/],
    ['PARTNER_STATUS_MAX_AGE_S', '1.5', /PARTNER_STATUS_MAX_AGE_S: must be a whole number of seconds/],
    ['PORT', '0', /PORT: must be a TCP port number/],
    ['PORT', '65536', /PORT: must be a TCP port number/],
    ['PORT', '-1', /PORT: must be a TCP port number/],
    ['PORT', '80.5', /PORT: must be a TCP port number/],
    ['PORT', '0x50', /PORT: must be a TCP port number/],
    ['PORT', '1e3', /PORT: must be a TCP port number/],
    ['REGION_CODE', '36070', /REGION_CODE: must be a six-digit GB\/T 2260 region code/],
    ['REGION_CODE', '3607000', /REGION_CODE: must be a six-digit/],
    ['REGION_CODE', 'ganzhou', /REGION_CODE: must be a six-digit/],
    ['REGION_CODE', '000000', /REGION_CODE: .*no province 00/],
    ['PUBLIC_URL', 'tongban.example', /PUBLIC_URL: must be an http\(s\) URL/],
    ['PUBLIC_URL', 'ftp://tongban.example', /PUBLIC_URL: must be an http\(s\) URL/],
    ['PUBLIC_URL', 'https://tongban.example/?region=360700', /PUBLIC_URL: must be a base URL without query, fragment or credentials/],
    ['PUBLIC_URL', 'https://tongban.example/#top', /PUBLIC_URL: must be a base URL without query/],
    ['PUBLIC_URL', 'https://admin:secret@tongban.example', /PUBLIC_URL: must be a base URL without query, fragment or credentials/],
    ['BUREAU_USCC', '91350100M000100Y44', /BUREAU_USCC: check character is '4', GB 32100 requires '3'/],
    ['BUREAU_USCC', '9135010', /BUREAU_USCC: a 统一社会信用代码 has 18 characters, this one has 7/],
    ['BUREAU_USCC', '91350100M000100I43', /BUREAU_USCC: character 16 \('I'\)/],
    ['DATABASE_URL', 'mysql://root@db/tongban', /DATABASE_URL: must be a postgres:\/\/ URL/],
    ['DATABASE_URL', 'db:5432', /DATABASE_URL: must be a postgres:\/\/ URL/],
    ['ADMIN_TOKEN', 'short-token', /ADMIN_TOKEN: must be at least 16 characters/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: .*"info"/],
  ])('%s=%j stops the start with a message naming the variable', (name, value, says) => {
    const error = configError({ [name]: value })
    expect(error.code).toBe('invalid_configuration')
    expect(error.message).toMatch(/^invalid configuration:/)
    expect(error.message).toMatch(says)
  })

  it('names every bad variable at once', () => {
    const error = configError({ PORT: 'x', REGION_CODE: '1', ADMIN_TOKEN: 'short', DATABASE_URL: 'sqlite:x' })
    const named = error.message.split('\n').slice(1).map((line) => line.trim().split(':')[0])
    expect(named.sort()).toEqual(['ADMIN_TOKEN', 'DATABASE_URL', 'PORT', 'REGION_CODE'])
  })

  it('never prints a secret it refuses', () => {
    expect(configError({ ADMIN_TOKEN: 'hunter2-secret' }).message).not.toContain('hunter2')
    expect(configError({ PUBLIC_URL: 'https://admin:s3cret-pw@tongban.example' }).message).not.toContain('s3cret-pw')
  })
})
