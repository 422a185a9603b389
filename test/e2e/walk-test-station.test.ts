/**
 * Issue 7 §3 end to end: a technician runs `safehouse walk-test` (spawned
 * CLI) on a post whose gateway talks to a REAL mosquitto as the station, with
 * its devices on the real stacks: a panic button on a Firmata board (the
 * Firmata peer on a socat PTY), a BLE whistle heard through BlueZ (the
 * org.bluez simulation on a private dbus-daemon), the lamp box on Modbus RTU
 * (the slave on a PTY). The technician presses and blows, confirms the lamp's
 * test pattern (which the test also reads on the wire). The station sees the
 * alerts marked test, then the retained commissioning report (a console that
 * subscribes later still gets it), and the gateway back in normal mode.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { startCli } from '../harness/cli-process.js'
import { Mosquitto } from '../harness/mosquitto.js'
import { until } from '../harness/test-gateway.js'
import { PtyPair } from '../harness/pty-pair.js'
import { FirmataPeer } from '../harness/firmata-peer.js'
import { LampBoxSlave } from '../harness/lamp-box-slave.js'
import { PrivateBus } from '../harness/bluez-sim-bus.js'
import { BluezSim } from '../harness/bluez-sim.js'
import { cliGateway, TECH_ENV } from '../provisioning/cli-gateway.js'
import { BTHOME_UUID } from '../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../devices/ble-whistle/sim-ble-whistle.js'
import { PATTERN_CODE } from '../../protocols/lamp-box/register-map.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { WalkTestReport } from '../../provisioning/walk-test/report.js'

t.setTimeout(90_000)

const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.test('walk test on a post: the station gets test alerts and the retained report; the gateway is back to normal', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const firmataPty = await new PtyPair('walk-firmata').open()
  const peer = await FirmataPeer.open(firmataPty.b)
  t.teardown(async () => { await peer.close(); await firmataPty.close() })
  const lampPty = await new PtyPair('walk-lamp').open()
  t.teardown(() => lampPty.close())
  const slave = new LampBoxSlave(lampPty.b)
  await slave.open()
  t.teardown(() => slave.close())
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSim(bus.address).start()
  t.teardown(() => sim.stop())
  const WHISTLE = 'AA:BB:CC:00:70:07'
  const { gw, configFile } = await cliGateway(t, {
    stationUrl: mosq.url,
    extra: {
      boards: [{ id: 'main', port: firmataPty.a, version_query_ms: 100 }],
      ble: { driver: 'bluez', bus_address: bus.address },
      devices: [
        { id: 'counter-button', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2, label: 'Counter button' },
        { id: 'whistle-07', kind: 'ble-whistle', address: WHISTLE, alert_kind: 'whistle' },
        { id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: lampPty.a, poll_ms: 200, unit_id: 1, profile: 'safehouse' },
      ],
    },
  })
  await until(() => gw.uplink.connected, 'the uplink')
  await peer.until(() => peer.isReportingDigital(2), 'the board to report pin 2', 10_000)
  await until(() => sim.discovering, 'BlueZ discovery started by the gateway', 10_000)

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
  await until(() => slave.model.pattern === PATTERN_CODE.test, 'the lamp test pattern on the Modbus wire')
  peer.setDigital(2, 0)
  await until(() => alerts.some((a) => a.device === 'counter-button'), 'the button press at the station')
  peer.setDigital(2, 1)
  await sim.pressBurst(WHISTLE, { rssi: -64, serviceData: { [BTHOME_UUID]: bthomeServiceData({ packetId: 1, buttons: [BTHOME_BUTTON.PRESS], battery: 88, triggerBased: true }) } }, 5, 20)
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
