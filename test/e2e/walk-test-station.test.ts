/**
 * Issue 7 §3 end to end: a technician runs `safehouse walk-test` (spawned
 * CLI) on a post whose gateway talks to a REAL mosquitto as the station. The
 * station sees the devices' alerts marked test, then the retained
 * commissioning report (a console that subscribes later still gets it), and
 * the gateway's retained state back in normal mode.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { startCli } from '../harness/cli-process.js'
import { Mosquitto } from '../harness/mosquitto.js'
import { until } from '../harness/test-gateway.js'
import { cliGateway, TECH_ENV } from '../provisioning/cli-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { WalkTestReport } from '../../provisioning/walk-test/report.js'

t.setTimeout(90_000)

const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.test('walk test on a post: the station gets test alerts and the retained report; the gateway is back to normal', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, configFile } = await cliGateway(t, { stationUrl: mosq.url })
  await until(() => gw.uplink.connected, 'the uplink')

  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-walk', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: { id: string; device: string; test: boolean; kind: string }[] = []
  const modes: string[] = []
  station.on('message', (topic, p) => {
    if (!p.length) return
    if (topic.includes('/alert/')) alerts.push(JSON.parse(p.toString()))
    else if (topic === `${ROOT}/state`) modes.push(JSON.parse(p.toString()).mode)
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/state`], { qos: 1 })

  const p = startCli(['walk-test', '--config', configFile, '--minutes', '2', '--by', 'Wang Wei'], { env: TECH_ENV, stdin: 'y\n' })
  t.teardown(() => { p.kill('SIGKILL') })
  await until(() => gw.core.testMode, 'walk-test mode on', 20_000).catch((e: Error) => { throw new Error(`${e.message}; CLI stderr:\n${p.output.err}`) })
  await until(() => modes.at(-1) === 'walk_test', 'the station sees walk-test mode')
  gw.twins.get('counter-button')?.act('press')
  gw.twins.get('whistle-07')?.act('blow')
  const code = await new Promise<number | null>((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', resolve)))
  t.equal(code, 0, p.output.err)
  t.match(p.output.out, /Published on .*walk-test\/report \(retained\): sent to the station/)

  await until(() => ['counter-button', 'whistle-07'].every((d) => alerts.some((a) => a.device === d)), 'both alerts at the station')
  t.ok(alerts.every((a) => a.test === true), 'every alert of the walk test is marked test at the station')
  await until(() => modes.at(-1) === 'normal', 'the retained state back in normal mode at the station')

  // A console that connects after the test still gets the report: it is retained.
  const late = await mqtt.connectAsync(mosq.url, { clientId: 'station-late' })
  t.teardown(() => late.endAsync())
  const got = new Promise<Buffer>((resolve) => late.on('message', (topic, payload) => { if (topic === `${ROOT}/walk-test/report`) resolve(payload) }))
  await late.subscribeAsync('safehouse/v1/test-city/+/walk-test/report', { qos: 1 })
  let timer: NodeJS.Timeout | undefined
  const payload = await Promise.race([got, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no retained report at the station within 10 s')), 10_000) })])
  clearTimeout(timer)
  const r = checkPayload<WalkTestReport>('walkTestReport', payload)
  t.ok(r.ok, r.ok ? 'the report validates against walk-test-report.schema.json' : r.error)
  if (!r.ok) return
  t.match(r.value, { site: 'test-city', post: 'kiosk-001', technician: 'Wang Wei', result: 'pass', ended_by: 'all_passed', summary: { passed: 3, failed: 0 } })
  const ids = new Set(alerts.map((a) => a.id))
  t.ok(r.value.devices.filter((d) => d.alert_id).every((d) => ids.has(d.alert_id as string)), 'the report names the alert ids the station received')
  t.equal(gw.core.testMode, false)
})
