/**
 * `safehouse station --config FILE`: the police station's service (issue 15):
 * ingest from the station broker, the store, the web console.
 * `safehouse station user add NAME --role ROLE --config FILE`: an operator of
 * the console (scrypt hash in the station's database).
 * `safehouse station config check FILE`: every problem in a station config.
 * Exit codes: 0 ok, 1 failure (config, database, broker), 2 usage error.
 */
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { loadStationConfig, loadStationSecrets, StationConfigError } from '../../station/config/load-station-config.js'
import { optionsFromConfig, StationService } from '../../station/station-service.js'
import { openStore } from '../../station/store/open-store.js'
import type { Lang, Role } from '../../station/station-api.js'
import { readSecretLine } from './read-secret.js'
import { UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const ROLES: Role[] = ['operator', 'supervisor', 'maintainer']
const LANGS: Lang[] = ['zh-CN', 'en']

const HELP = `usage: safehouse station --config FILE
       safehouse station user add NAME --role ROLE --config FILE [--lang zh-CN|en] [--password-stdin]
       safehouse station config check FILE

Runs the station service: reads every post's alerts and state from the station broker into the
store (SQLite file or PostgreSQL) and serves the operators' web console.

Examples:
  safehouse station --config /etc/safehouse/station.yaml
  echo "$PW" | safehouse station user add wang.wei --role operator --lang zh-CN --config /etc/safehouse/station.yaml --password-stdin
  safehouse station config check /etc/safehouse/station.yaml

Roles: operator (acknowledge, roll call), supervisor (also users and commands), maintainer (posts, commands).`

function loadOrPrint(file: string, io: CliIO): ReturnType<typeof loadStationConfig> | null {
  try {
    return loadStationConfig(file)
  } catch (e) {
    if (e instanceof StationConfigError) {
      println(io.stderr, e.message)
      return null
    }
    throw e
  }
}

async function userAdd(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    role: { type: 'string' }, config: { type: 'string', short: 'c' }, lang: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean' },
  } })
  if (values.help) {
    println(io.stdout, HELP)
    return 0
  }
  const name = positionals[0]
  if (!name || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) throw new UsageError('give an operator NAME (letters, digits, _ . -; up to 64)')
  if (!values.role || !ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
  if (values.lang && !LANGS.includes(values.lang as Lang)) throw new UsageError(`--lang must be one of ${LANGS.join(', ')}`)
  if (!values.config) throw new UsageError('--config FILE is required (the station config names the database)')
  const config = loadOrPrint(values.config, io)
  if (!config) return 1
  const opts = optionsFromConfig(config, loadStationSecrets(config.secrets_file))
  const password = await readSecretLine(`Password for ${name}: `, !!values['password-stdin'], io)
  if (password.length < 8) throw new Error('the password must have at least 8 characters')
  const store = await openStore(opts.storeUrl)
  try {
    await store.addOperator(name, values.role as Role, password, (values.lang as Lang | undefined) ?? null)
    await store.addAudit({ at: Date.now(), who: 'cli', action: 'operator-added', target: name, detail: values.role, from: null })
  } finally {
    await store.close()
  }
  println(io.stdout, `operator ${name} (${values.role}) stored in the ${store.kind} database (scrypt hash)`)
  return 0
}

export async function station(argv: string[], io: CliIO = processIO()): Promise<number> {
  if (argv[0] === 'user') {
    if (argv[1] !== 'add') throw new UsageError('usage: safehouse station user add NAME --role ROLE --config FILE')
    return userAdd(argv.slice(2), io)
  }
  if (argv[0] === 'config') {
    if (argv[1] !== 'check' || !argv[2]) throw new UsageError('usage: safehouse station config check FILE')
    const c = loadOrPrint(argv[2], io)
    if (!c) return 1
    println(io.stdout, `${argv[2]}: ok (store ${c.store.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL'}, broker ${c.broker.url}, console ${c.web.host}:${c.web.port})`)
    return 0
  }
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean' } } })
  if (values.help) {
    println(io.stdout, HELP)
    return 0
  }
  if (!values.config) throw new UsageError('--config FILE is required (e.g. /etc/safehouse/station.yaml)')
  const config = loadOrPrint(values.config, io)
  if (!config) return 1
  const log = pino({ level: config.log.level, redact: ['password', '*.password'] })
  const service = new StationService(optionsFromConfig(config, loadStationSecrets(config.secrets_file), log))
  try {
    await service.start()
  } catch (e) {
    await service.stop().catch(() => {})
    throw e
  }
  println(io.stderr, `safehouse station: console on http://${config.web.host}:${service.webPort}/ (store ${service.store.kind})`)
  if (service.metricsPort) println(io.stderr, `safehouse station: metrics on http://${config.metrics.host}:${service.metricsPort}/metrics`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await service.stop()
  return 0
}
