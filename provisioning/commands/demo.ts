/**
 * `safehouse demo`: the gateway with simulated twins of all three device
 * kinds, the embedded broker on localhost, a local station broker and a
 * station console. Within seconds a newcomer sees a button press raised,
 * delivered to the station, acknowledged, and the ack recorded by the gateway.
 */
import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import { parseFlags, UsageError } from './usage-error.js'
import { DEMO_SITE, DEMO_POST, DEMO_HOLD_MS, DEMO_HOLD_PRESS_MS } from '../demo/demo-constants.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const seconds = (ms: number) => `${ms / 1000} s`
// The hold hint is built from the demo config's own hold time (issue 14 §4: hints match the config).
const KEYS = `keys: p = press counter button · h = hold the public button ${seconds(DEMO_HOLD_PRESS_MS)} (it alarms after its ${seconds(DEMO_HOLD_MS)} hold time)
      w = blow whistle · c = cut a wire (not on plain contacts) · m = lamp box loses mains
      a = acknowledge (manual mode) · s = gateway state · q = quit
or from another terminal: npx safehouse simulate press counter-button · npx safehouse status`

export async function runDemo(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: {
    once: { type: 'boolean' }, manual: { type: 'boolean' }, port: { type: 'string' }, 'console-port': { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }))
  if (values.help) {
    println(io.stdout, `usage: safehouse demo [--once] [--manual] [--port N] [--verbose]

  --once     run the scripted press -> alert -> ack once and exit (0 when the gateway recorded the ack)
  --manual   the station console waits for "a" instead of acknowledging by itself
  --port N   embedded broker port (default: any free port)
  --console-port N  station console port (default 8080, or a free one if taken; --once: a free one)
  --verbose  gateway logs at info level

${KEYS}

Examples:
  npx safehouse demo
  npx safehouse demo --once        # CI smoke test: exit 0 when the ack was recorded`)
    return 0
  }
  const t0 = Date.now()
  const print = (line: string) => println(io.stdout, `${((Date.now() - t0) / 1000).toFixed(3).padStart(7)}s  ${line}`)
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number from 0 to 65535 (got "${values.port}")`)
  // The demo's modules load after the usage checks, so `demo --help` stays fast (issue 13 §5).
  const [{ default: mqtt }, { loadConfig }, { loadSecrets }, { createLogger }, { Gateway }, { defaultDrivers }, { createFileOutbox }, { prepareDemo }, { writeDemoInfo }, { StationConsole }, { startDemoStation }] = await Promise.all([
    import('mqtt'), import('../../gateway/config/load-config.js'), import('../../gateway/config/secrets.js'), import('../../gateway/logging.js'),
    import('../../gateway/gateway.js'), import('../../gateway/driver-registry.js'), import('../../gateway/outbox/create-outbox.js'),
    import('../demo/demo-setup.js'), import('../demo/demo-registry.js'), import('../demo/station-console.js'), import('../demo/demo-station.js'),
  ])
  const setup = await prepareDemo(port)
  const config = loadConfig(setup.configFile)
  const log = createLogger({ level: values.verbose ? 'info' : config.log.level, format: 'pretty' })
  const gw = await Gateway.create(config, loadSecrets(config.secrets_file), { log, drivers: defaultDrivers, fileOutbox: createFileOutbox })
  print(`DEMO      safehouse gateway for post ${DEMO_POST} (${DEMO_SITE}); files in ${setup.dir}`)
  await gw.start()
  const localUrl = `mqtt://127.0.0.1:${gw.broker.port}`
  print(`GATEWAY   started: embedded broker ${localUrl}, station broker mqtt://127.0.0.1:${setup.station.port}, ${gw.devices.size - 1} simulated devices`)
  const m = gw.metricsServer?.address
  if (m) print(`METRICS   http://127.0.0.1:${m.port}/metrics (Prometheus text format)`)

  // The real station service (issue 15) on SQLite in the demo's temp dir, with its web console.
  const service = await startDemoStation(setup, values.once ? 0 : Number(values['console-port'] ?? 8080))
  print(`CONSOLE   station console ${service.url}  login: ${service.login.name} / ${service.login.password}`)
  if (service.service.metricsPort) print(`METRICS   station http://127.0.0.1:${service.service.metricsPort}/metrics (fleet gauges)`)
  service.service.live.subscribe((_seq, e) => {
    if (e.type === 'alert') print(`CONSOLE   ◀ ${e.alert.kind} ${e.alert.id} stored by the station service (shown in the console)`)
  })

  const station = new StationConsole({
    url: `mqtt://127.0.0.1:${setup.station.port}`, username: 'operator-desk', password: setup.station.users['operator-desk'],
    operator: 'operator-desk', autoAckMs: values.manual ? null : 1500, print,
  })
  await station.start()

  // A lamp-box panel on the post's LAN: a local broker client with the read-only "panel" role.
  const panel = mqtt.connect(localUrl, { username: setup.local.panelUser, password: setup.local.panelPassword, clientId: 'lamp-panel' })
  let lastPattern = ''
  let lastAck = ''
  let firstAckRecorded: (() => void) | null = null
  const acked = new Promise<void>((r) => { firstAckRecorded = r })
  panel.on('message', (topic, payload) => {
    let s
    try { s = JSON.parse(payload.toString()) } catch { return print(`LOCAL     ? unreadable message on ${topic}`) }
    if (topic.endsWith('/device/lamp-box/state') && s.lamp_pattern !== lastPattern) {
      lastPattern = s.lamp_pattern
      print(`LAMP BOX  pattern: ${lastPattern}`)
    } else if (topic.endsWith(`${DEMO_POST}/state`) && s.last_ack && s.last_ack.id !== lastAck) {
      lastAck = s.last_ack.id
      print(`GATEWAY   ✓ recorded ack of ${s.last_ack.id} by ${s.last_ack.by}; outbox depth ${s.outbox.depth}`)
      firstAckRecorded?.()
    } else if (topic.includes('/alert/')) {
      print(`LOCAL     ◀ alert ${s.kind} from ${s.device} on the embedded broker (panel, neighbours)`)
    }
  })
  await new Promise<void>((r) => panel.once('connect', () => r()))
  await panel.subscribeAsync([`safehouse/v1/${DEMO_SITE}/${DEMO_POST}/device/lamp-box/state`, `safehouse/v1/${DEMO_SITE}/${DEMO_POST}/state`, `safehouse/v1/${DEMO_SITE}/${DEMO_POST}/alert/+`])

  writeDemoInfo(setup.dir, {
    pid: process.pid, port: gw.broker.port, site: DEMO_SITE, post: DEMO_POST, configFile: setup.configFile,
    simulator: { username: setup.local.simUser, password: setup.local.simPassword },
    technician: { username: setup.local.techUser, password: setup.local.techPassword },
  })

  const act = (device: string, action: string, arg?: number) => {
    print(`DEMO      ${action} ${device}`)
    const err = gw.twins.get(device)?.act(action, arg)
    if (err) print(`DEMO      ${err}`)
  }
  let stopping = false
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    if (process.stdin.isTTY) process.stdin.setRawMode(false)
    process.stdin.pause()
    panel.end(true)
    await station.stop()
    await service.stop()
    await gw.stop()
    await setup.station.close()
    rmSync(setup.dir, { recursive: true, force: true })
    print('DEMO      stopped')
    process.exitCode = code
  }

  setTimeout(() => act('counter-button', 'press'), 800)
  if (values.once) {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), 30_000) })
    const result = await Promise.race([acked.then(() => 'ok' as const), timeout])
    clearTimeout(timer) // else the process lingers 30 s after a demo that went well
    await stop(result === 'ok' ? 0 : 1)
    if (result !== 'ok') println(io.stderr, 'demo: the acknowledgement was not recorded within 30 s')
    return result === 'ok' ? 0 : 1
  }

  print(KEYS)
  process.once('SIGINT', () => void stop(0))
  process.once('SIGTERM', () => void stop(0))
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true)
    process.stdin.resume()
    process.stdin.on('data', (d: Buffer) => {
      const k = d.toString()
      if (k === 'q' || k === '\u0003') return void stop(0)
      if (k === 'p') act('counter-button', 'press')
      else if (k === 'h') act('public-button', 'hold', DEMO_HOLD_PRESS_MS)
      else if (k === 'w') act('whistle-07', 'blow')
      else if (k === 'c') act('counter-button', 'cut')
      else if (k === 'm') act('lamp-box', 'mains-off')
      else if (k === 'a') { if (!station.ackNext()) print('STATION   nothing to acknowledge') }
      else if (k === 's') print(`GATEWAY   state ${JSON.stringify(gw.gatewayState())}`)
    })
  }
  await new Promise<void>((resolve) => {
    const check = setInterval(() => { if (stopping) { clearInterval(check); resolve() } }, 200)
  })
  return process.exitCode as number ?? 0
}
