/**
 * Issue 3 through the whole gateway on the real stack: Gateway.create with a
 * `driver: firmata` button (johnny-five + firmata-io + serialport on a socat
 * PTY, the Firmata peer on the other end) and a real mosquitto as the station.
 * A press on the peer arrives as one alert at the station; pulling the board
 * shows up in the button's retained device state. Issue 11: a board that
 * resets, and noise on the line, as the station sees them.
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PtyPair } from '../harness/pty-pair.js'
import { FirmataPeer } from '../harness/firmata-peer.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { seededRandom } from '../harness/seeded-random.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.setTimeout(90_000)

/** A real mosquitto station, a PTY pair with the Firmata peer on one end, and a test gateway on the other. */
async function firmataStation(t: Test, name: string, devices: object[]) {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const pty = await new PtyPair(name).open()
  const peer = await FirmataPeer.open(pty.b)
  t.teardown(async () => { await peer.close(); await pty.close() })
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: { boards: [{ id: 'main', port: pty.a, version_query_ms: 100 }], devices },
  })
  t.teardown(cleanup)
  return { mosq, pty, peer, gw }
}

t.test('Firmata press -> one alert at the station; unplug -> fault in the retained device state', async (t) => {
  const { mosq, pty, peer, gw } = await firmataStation(t, 'firmata-gw', [{ id: 'counter', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2, label: 'Counter button' }])
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-firmata' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; device: string }[] = []
  const states: { status: string; status_reason: string }[] = []
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) {
      t.ok(checkPayload('alert', p).ok, 'alert is schema-valid')
      alerts.push(JSON.parse(p.toString()))
    } else states.push(JSON.parse(p.toString()))
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/device/counter/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await peer.until(() => peer.isReportingDigital(2), 'the board to report pin 2', 10_000)
  await until(() => states.some((s) => s.status === 'online'), 'the button online in device state')

  peer.setDigital(2, 0)
  await until(() => alerts.length >= 1, 'the alert at the station')
  peer.setDigital(2, 1)
  await new Promise((r) => setTimeout(r, 300))
  t.same(alerts.map((a) => [a.kind, a.device]), [['panic', 'counter']], 'exactly one panic alert')

  await pty.unplug()
  await until(() => states.some((s) => s.status === 'fault'), 'the fault in the retained device state', 6000)
  t.ok(states.find((s) => s.status === 'fault')?.status_reason, 'the fault says why')
})

t.test('issue 11 at the station: a board reset is device_fault then restored; 10,000 random bytes raise no alert, every press one', async (t) => {
  const { mosq, peer, gw } = await firmataStation(t, 'firmata-gw-faults', [
    { id: 'counter', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2 },
    { id: 'foot', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 9, alert_kind: 'duress' },
  ])
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-firmata-faults' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; device: string }[] = []
  const states: Record<string, string[]> = { counter: [], foot: [] }
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) alerts.push(JSON.parse(p.toString()))
    else states[topic.split('/').at(-2)!].push(JSON.parse(p.toString()).status)
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/device/+/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => states.counter.at(-1) === 'online' && states.foot.at(-1) === 'online', 'both buttons online')
  const of = (kind: string, device: string): number => alerts.filter((a) => a.kind === kind && a.device === device).length

  // a silent reset (no announcement), short enough that the link never looks dead
  await peer.reset({ announce: false, bootMs: 300 })
  await until(() => of('device_fault', 'counter') === 1 && of('device_fault', 'foot') === 1, 'device_fault at the station', 5000)
  await until(() => of('restored', 'counter') === 1 && of('restored', 'foot') === 1, 'restored at the station', 5000)
  // (the retained state is latest-value: a fault shorter than its publish interval shows only as the two alerts)
  await until(() => states.counter.at(-1) === 'online' && states.foot.at(-1) === 'online', 'the buttons online in their retained state')

  const rnd = seededRandom(2026)
  let presses = 0
  for (let sent = 0; sent < 10_000; sent += 1000) {
    peer.babble(1000, rnd)
    if (sent % 2000 === 0) {
      peer.setDigital(2, 0); presses++
      peer.babble(200, rnd)
      // a firm press: it must outlast the noise and a clean round trip, which a loaded CI machine stretches
      await new Promise((r) => setTimeout(r, 500))
      peer.setDigital(2, 1)
      // released long enough for its own confirmation before the next noise and press: a release and a
      // new press within one (slow) round trip on a noisy line are one press (docs/devices/panic-button.md §7)
      await new Promise((r) => setTimeout(r, 400))
    }
  }
  await until(() => of('panic', 'counter') === presses, `${presses} presses at the station`, 10_000)
    .catch((e: Error) => { throw new Error(`${e.message} (got ${of('panic', 'counter')}; alerts ${alerts.map((a) => `${a.kind}/${a.device}`).join(',')})`) })
  await new Promise((r) => setTimeout(r, 1000))
  t.equal(of('panic', 'counter'), presses, 'exactly one alert per real press')
  t.equal(of('duress', 'foot'), 0, 'no phantom on the other button')
  t.equal(alerts.filter((a) => a.kind === 'device_fault').length, 2, 'noise raised no device fault')
})
