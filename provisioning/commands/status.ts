/**
 * `safehouse status` (issue 7 §4): every post and device with status, last
 * seen, battery, RSSI and faults, problems first; `--json` for scripts; exit 3
 * when anything is offline, overdue, missing or faulty (monitoring). Reads
 * only retained messages: locally from the gateway's embedded broker, or for a
 * whole site from the station broker.
 */
import { parseArgs } from 'node:util'
import { PassThrough } from 'node:stream'
import { existsSync } from 'node:fs'
import type { BrokerTarget } from '../status/broker-connect.js'
import type { ExpectedPost } from '../status/post-status.js'
import { DEFAULT_CONFIG, PASSWORD_ENV } from '../shared/defaults.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const USAGE = `usage: safehouse status [--config FILE] [--broker URL] [--user NAME] [--password-stdin] [--json] [--wait MS]
       safehouse status --station URL [--site SITE] [--user NAME] [--password-stdin] [--ca-file F] [--json] [--wait MS]

Every post and device: status, last seen, battery, RSSI, faults, problems first.

  (default)          this post: the gateway's embedded broker, found in --config
                     (default ${DEFAULT_CONFIG}); log in as a technician user
  --station URL      every post of --site (default: all sites) on the station broker
                     (mqtt://host:1883 or mqtts://host:8883)
  --broker URL       the embedded broker at another address (e.g. the post's LAN address)
  --user NAME        broker user (local default: the config's only technician user;
                     station default: anonymous)
  --password-stdin   read the password from stdin (else $${PASSWORD_ENV}, else a hidden prompt)
  --ca-file F        CA certificate for an mqtts:// broker with a private CA
  --json             one JSON document on stdout, for scripts
  --wait MS          longest time to wait for the broker and its retained messages (default 5000)
  --demo PID         a running demo (\`npx safehouse demo\`); without ${DEFAULT_CONFIG} on this
                     machine the only running demo is read by default
  --stale-after S    a post whose state is older than this is overdue
                     (default: 3 x core.state_interval_s locally, 180 s at the station)

Exit codes: 0 all fine; 3 a post offline, overdue or with its station link down, or a device
missing, faulty or offline (docs/operations.md "Reading safehouse status"); 1 the broker
cannot be reached or refused the login; 2 usage or an unreadable config file.

Examples:
  safehouse status
  safehouse status --json | jq '.posts[].devices[] | select(.problems != [])'
  echo "$PW" | safehouse status --station mqtts://station.example:8883 --site sh-huangpu \\
      --user maint-1 --password-stdin --ca-file /etc/safehouse/station-ca.pem`

export async function status(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: {
    config: { type: 'string', short: 'c' }, broker: { type: 'string' }, station: { type: 'string' }, site: { type: 'string' },
    user: { type: 'string' }, 'password-stdin': { type: 'boolean' }, 'ca-file': { type: 'string' }, json: { type: 'boolean' },
    wait: { type: 'string' }, 'stale-after': { type: 'string' }, demo: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } }), `\n\n${USAGE}`)
  if (values.help) {
    println(io.stdout, USAGE)
    return 0
  }
  // Loaded only when status runs, not for --help (issue 13 §5: yaml, the config loader, the tables).
  const [{ PROTOCOL_ROOT, isTopicLevel }, { urlForLog }, { Prompter }, { BrokerConnectError, connectBroker, toolClientId }, { brokerPassword, loadPostConfig, localBrokerTarget, localUser },
    { collectRetained, RetainedReadError }, { buildStatus }, { renderStatusTable }, { pickDemo, runningDemos }] = await Promise.all([
    import('../../protocols/mqtt/topics.js'), import('../../gateway/log-url.js'), import('../shared/prompter.js'), import('../status/broker-connect.js'),
    import('../status/local-broker.js'), import('../status/retained-collector.js'), import('../status/post-status.js'), import('../status/status-table.js'),
    import('../demo/demo-registry.js'),
  ])
  const waitMs = positive(values.wait, 'wait', 5000)
  if (waitMs < 200) throw new UsageError('--wait must be at least 200 ms')
  const staleFlag = values['stale-after'] === undefined ? null : positive(values['stale-after'], 'stale-after', 0) * 1000
  const fromStdin = !!values['password-stdin']
  const prompter = new Prompter({ input: io.stdin, output: fromStdin ? new PassThrough() : io.stderr }, { script: fromStdin })

  let target: BrokerTarget
  let filters: string[]
  let expected: ExpectedPost | undefined
  let staleAfterMs: number
  try {
    if (values.station) {
      if (values.broker) throw new UsageError('give either --station URL or --broker URL, not both')
      if (!/^mqtts?:\/\//.test(values.station)) throw new UsageError(`--station must be mqtt://host:port or mqtts://host:port (got "${values.station}")`)
      const site = values.site ?? '+'
      if (values.site !== undefined && !isTopicLevel(values.site)) throw new UsageError(`--site "${values.site}" is not a site id (lower-case letters, digits, dashes)`)
      const base = `${PROTOCOL_ROOT}/${site}/+`
      filters = [`${base}/status`, `${base}/state`, `${base}/device/+/state`]
      staleAfterMs = staleFlag ?? 180_000
      target = {
        url: values.station,
        what: 'the station broker',
        hint: `Check the URL, the network and firewall${values.station.startsWith('mqtts') ? ', and --ca-file' : ''}`,
        username: values.user,
        password: values.user ? await brokerPassword(values.user, fromStdin, prompter, io.env) : undefined,
        caFile: values['ca-file'],
        clientId: toolClientId('status'),
      }
    } else {
      if (values.site) throw new UsageError('--site applies with --station; locally the post comes from --config')
      // The demo (issue 14 §3): with --demo PID, or when this machine has no post config but a demo runs.
      const demo = values.demo !== undefined || (values.config === undefined && !values.broker && !existsSync(DEFAULT_CONFIG) && runningDemos().length)
        ? pickDemo(values.demo) : null
      if (demo && (values.config !== undefined || values.user)) throw new UsageError('--demo reads the demo\'s own config and login: drop --config and --user')
      const file = demo?.configFile ?? values.config ?? DEFAULT_CONFIG
      const config = loadPostConfig(file)
      const username = demo?.technician.username ?? localUser(config, file, values.user)
      const R = `${PROTOCOL_ROOT}/${config.site}/${config.post}`
      filters = [`${R}/status`, `${R}/state`, `${R}/device/+/state`]
      staleAfterMs = staleFlag ?? 3 * config.core.state_interval_s * 1000
      expected = { site: config.site, post: config.post, file, devices: config.devices.map((d) => ({ id: d.id, kind: d.kind, label: d.label, location: d.location })) }
      target = localBrokerTarget(config, file, { broker: values.broker ?? (demo ? `mqtt://127.0.0.1:${demo.port}` : undefined), username, caFile: values['ca-file'], clientId: toolClientId('status') })
      target.password = demo?.technician.password ?? await brokerPassword(username, fromStdin, prompter, io.env)
    }
  } finally {
    prompter.close()
  }

  let messages: Map<string, Buffer>
  try {
    const client = await connectBroker(target, { timeoutMs: waitMs })
    try {
      messages = await collectRetained(client, filters, { settleMs: Math.min(500, waitMs / 4), waitMs })
    } finally {
      await client.endAsync(true).catch(() => {})
    }
  } catch (e) {
    if (!(e instanceof BrokerConnectError) && !(e instanceof RetainedReadError)) throw e
    const message = (e as Error).message
    if (values.json) println(io.stdout, JSON.stringify({ v: 1, ok: false, exit_code: 1, error: message }))
    println(io.stderr, `safehouse status: ${message}`)
    return 1
  }
  const report = buildStatus(messages, { now: Date.now(), staleAfterMs, source: { kind: values.station ? 'station' : 'local', url: urlForLog(target.url) ?? target.url }, expected })
  println(io.stdout, values.json ? JSON.stringify(report, null, 2) : renderStatusTable(report))
  return report.exit_code
}

function positive(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number (got "${v}")`)
  return n
}

