/**
 * `safehouse status` as a maintainer runs it (issue 7 §4): the CLI
 * against an in-process gateway's embedded broker, and against a real
 * mosquitto as the station broker holding several posts. One case of each
 * kind (table, broker unreachable, --station) spawns the real binary; the
 * others run the same command line in-process (runCli, issue 14 §5).
 */
import t from 'tap'
import mqtt from 'mqtt'
import { writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify, parse } from 'yaml'
import { cli } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { until, USERS } from '../harness/test-gateway.js'
import { cliGateway, freshStates, TECH_ENV } from './cli-gateway.js'
import type { StatusReport } from '../../provisioning/status/post-status.js'

t.setTimeout(120_000)

t.test('local: a readable table and --json, exit 0 when all is fine', async (t) => {
  const { gw, configFile } = await cliGateway(t)
  await freshStates(gw)
  const table = await cli(['status', '--config', configFile], { env: TECH_ENV })
  t.equal(table.code, 0, table.err)
  t.match(table.out, /test-city\/kiosk-001 +online · v0\.1\.0 · normal · station disabled · outbox 0/)
  t.match(table.out, /DEVICE +KIND +STATUS +LAST SEEN +BATTERY +RSSI +WHERE +PROBLEMS \/ NOTES/)
  t.match(table.out, /lamp-box +lamp-box +online +(just now|\d+ s ago) +\d+ %/)
  t.match(table.out, /whistle-07 +ble-whistle +starting +never .*not heard from since the gateway started/)
  t.match(table.out, /1 post\(s\), 3 device\(s\) — all fine \(exit 0\)/)
  t.notMatch(table.out + table.err, USERS.technician.password, 'the password is never printed')

  const json = await cliInProcess(['status', '--config', configFile, '--json'], { env: TECH_ENV })
  t.equal(json.code, 0, json.err)
  const r = JSON.parse(json.out) as StatusReport
  t.match(r, { v: 1, ok: true, exit_code: 0, source: { kind: 'local' }, summary: { posts: 1, devices: 3, posts_with_problems: 0, devices_with_problems: 0 } })
  t.same(r.posts[0].devices.map((d) => d.id).sort(), ['counter-button', 'lamp-box', 'whistle-07'])
  const lamp = r.posts[0].devices.find((d) => d.id === 'lamp-box')
  t.match(lamp, { kind: 'lamp-box', status: 'online', problems: [] })
  t.type(lamp?.battery, 'number')
})

t.test('local: exit 3 for a faulted device and a configured device the gateway never reported', async (t) => {
  const { gw, configFile } = await cliGateway(t, {
    configDevices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim', label: 'Counter "main" button', location: 'under the counter' },
      { id: 'whistle-07', kind: 'ble-whistle', driver: 'sim', address: 'A4:C1:38:00:00:07', alert_kind: 'whistle' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' },
      { id: 'back-door', kind: 'panic-button', driver: 'sim', label: 'Back door', pin: 3 },
    ],
  })
  await freshStates(gw)
  // The simulator user pulls the button board's USB cable, as `safehouse simulate unplug` would.
  const sim = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.simulator.username, password: USERS.simulator.password, reconnectPeriod: 0 })
  t.teardown(() => sim.endAsync())
  await sim.publishAsync('safehouse/v1/test-city/kiosk-001/sim/counter-button/unplug', '', { qos: 1 })
  const button = gw.devices.entries.find((e) => e.id === 'counter-button')?.index ?? -1
  await until(() => gw.state.status[button] === 'fault', 'the button to fault')
  gw.statePublisher.flush(false)

  const json = await cliInProcess(['status', '--config', configFile, '--json'], { env: TECH_ENV })
  t.equal(json.code, 3, json.err)
  const r = JSON.parse(json.out) as StatusReport
  t.match(r, { ok: false, exit_code: 3, summary: { devices: 4, devices_with_problems: 2 } })
  const ids = r.posts[0].devices.map((d) => d.id)
  t.same(ids.slice(0, 2), ['counter-button', 'back-door'], 'problems first: fault, then never reported')
  t.match(r.posts[0].devices[0], { status: 'fault', status_reason: 'simulated board unplugged', problems: ['fault: simulated board unplugged', 'device_fault'] })
  t.match(r.posts[0].devices[1], { status: 'unknown', label: 'Back door', problems: [/no state published/] })

  const table = await cliInProcess(['status', '--config', configFile], { env: TECH_ENV })
  t.equal(table.code, 3)
  const rows = table.out.split('\n').filter((l) => /^ {2}[! ] /.test(l) && !/DEVICE/.test(l))
  t.match(rows[0], /^ {2}! counter-button +panic-button +fault .*fault: simulated board unplugged; device_fault/)
  t.match(rows[1], /^ {2}! back-door +panic-button +unknown +never/)
  t.match(table.out, /problems: 0 post\(s\), 2 device\(s\) \(exit 3\)/)
})

t.test('local: exit 1 when the broker cannot be reached or refuses the login; 2 for usage', async (t) => {
  const { configFile, dir } = await cliGateway(t)
  const dead = join(dir, 'dead.yaml')
  const port = await freePort()
  const doc = parse(readFileSync(configFile, 'utf8'))
  writeFileSync(dead, stringify({ ...doc, broker: { ...doc.broker, port } }))
  const wrong = 'not-the-password-42'
  // Independent runs: in parallel, so the file stays quick on a loaded machine.
  const [r, j, bad, missing, help] = await Promise.all([
    cli(['status', '--config', dead], { env: TECH_ENV }),
    cliInProcess(['status', '--config', dead, '--json'], { env: TECH_ENV }),
    cliInProcess(['status', '--config', configFile, '--password-stdin'], { stdin: `${wrong}\n` }),
    cliInProcess(['status', '--config', join(dir, 'nope.yaml')]),
    cliInProcess(['status', '--help']),
  ])
  t.equal(r.code, 1)
  t.match(r.err, `cannot reach the gateway's embedded broker at mqtt://127.0.0.1:${port}: connection refused`)
  t.match(r.err, /Is the gateway running .* Check broker\.host and broker\.port in .*dead\.yaml/)
  t.equal(j.code, 1)
  t.match(JSON.parse(j.out), { ok: false, exit_code: 1, error: /connection refused/ })
  t.equal(bad.code, 1)
  t.match(bad.err, /refused the login of user "tech-1": bad username or password/)
  t.notMatch(bad.out + bad.err, wrong, 'the password is never printed')
  t.equal(missing.code, 2, 'missing config: usage')
  t.match(missing.err, /nope\.yaml: 1 problem[\s\S]*pass --config FILE/)
  t.equal(help.code, 0)
  t.match(help.out, /Exit codes: 0 all fine; 3 [\s\S]*Examples:/)
})

t.test('--station: every post of the site from the station broker; an offline post exits 3 and comes first', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const a = await cliGateway(t, { stationUrl: mosq.url, post: 'kiosk-001' })
  const b = await cliGateway(t, { stationUrl: mosq.url, post: 'kiosk-002' })
  await until(() => a.gw.uplink.connected && b.gw.uplink.connected, 'both uplinks')
  // Wait until the station holds every post's retained device states with the devices online.
  const watcher = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 })
  t.teardown(() => watcher.endAsync())
  const seen = new Map<string, string>()
  watcher.on('message', (topic, p) => { if (p.length) seen.set(topic, JSON.parse(p.toString()).status) })
  await watcher.subscribeAsync('safehouse/v1/test-city/+/device/+/state')
  await freshStates(a.gw)
  await freshStates(b.gw)
  await until(() => ['kiosk-001', 'kiosk-002'].every((p) => seen.get(`safehouse/v1/test-city/${p}/device/lamp-box/state`) === 'online'), 'device states at the station')

  const ok = await cli(['status', '--station', mosq.url, '--site', 'test-city', '--json'])
  t.equal(ok.code, 0, ok.err)
  const r = JSON.parse(ok.out) as StatusReport
  t.match(r, { source: { kind: 'station' }, summary: { posts: 2, devices: 6, posts_with_problems: 0 } })
  t.same(r.posts.map((p) => [p.post, p.status, p.station]), [['kiosk-001', 'online', 'connected'], ['kiosk-002', 'online', 'connected']])
  t.type(r.posts[0].since, 'number', 'online since, from the retained status')

  await b.gw.stop() // a clean stop publishes the retained "offline"
  const off = await cliInProcess(['status', '--station', mosq.url])
  t.equal(off.code, 3, off.err)
  t.match(off.out, /^! test-city\/kiosk-002 +offline/, 'the offline post comes first')
  t.match(off.out, /! offline: the gateway stopped or lost its connection/)
  t.match(off.out, /test-city\/kiosk-001 +online since/)
  t.match(off.out, /problems: 1 post\(s\)/)

  const none = await cliInProcess(['status', '--station', mosq.url, '--site', 'elsewhere', '--json'])
  t.equal(none.code, 3, 'no posts at all is not "all fine"')
  t.match(JSON.parse(none.out), { summary: { posts: 0 }, ok: false })
})
