/**
 * Issue 4 through the whole gateway on the real client stack: Gateway.create
 * with `ble.driver: bluez` on a private dbus-daemon with the org.bluez
 * simulation, and a real mosquitto as the station. A press burst is one alert
 * (with RSSI and the receiving post), a second press a second alert; a
 * downgraded (plaintext) packet from an encrypted device raises nothing and
 * its rejection is visible in the device's retained state, with the battery.
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PrivateBus } from '../harness/bluez-sim-bus.js'
import { BluezSim } from '../harness/bluez-sim.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { BTHOME_UUID } from '../../devices/ble-whistle/raw-advert.js'
import { bthomeEncrypted, bthomeServiceData, BTHOME_BUTTON } from '../../devices/ble-whistle/sim-ble-whistle.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'
const PLAIN = 'AA:BB:CC:00:50:01'
const SECURE = 'AA:BB:CC:00:50:02'
const KEY = '231d39c1d7cc1ab1aee224cd096db932'

/** A mosquitto station and the org.bluez simulation on a private bus, closed when the test ends. */
async function stationAndBluez(t: Test): Promise<{ mosq: Mosquitto; bus: PrivateBus; sim: BluezSim }> {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSim(bus.address).start()
  t.teardown(() => sim.stop())
  return { mosq, bus, sim }
}

/** A test gateway reading BlueZ on the private bus, its station the mosquitto; closed when the test ends. */
async function bluezGateway(t: Test, mosq: Mosquitto, bus: PrivateBus, devices: object[], extra: Record<string, unknown> = {}) {
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    bleKeys: { secure: KEY },
    extra: { ble: { driver: 'bluez', bus_address: bus.address }, devices, ...extra },
  })
  t.teardown(cleanup)
  return gw
}

t.test('BlueZ press -> one alert at the station; downgrade counted in device state', async (t) => {
  const { mosq, bus, sim } = await stationAndBluez(t)
  const gw = await bluezGateway(t, mosq, bus, [
    { id: 'whistle-1', kind: 'ble-whistle', address: PLAIN, alert_kind: 'whistle' },
    { id: 'sos-2', kind: 'ble-whistle', address: SECURE, alert_kind: 'sos', key_ref: 'secure' },
  ])
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-ble' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; device: string; rssi: number | null; post: string; id: string }[] = []
  const states = new Map<string, { battery: number | null; counters: Record<string, number>; status: string }>()
  station.on('message', (topic, p) => {
    const j = JSON.parse(p.toString())
    if (topic.includes('/alert/')) alerts.push(j)
    else {
      t.ok(checkPayload('deviceState', p).ok, 'device state is schema-valid')
      states.set(j.device, j)
    }
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/device/+/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => sim.discovering, 'BlueZ discovery started by the gateway', 10_000)

  const press = (packetId: number) => ({ packetId, buttons: [BTHOME_BUTTON.PRESS], battery: 87, triggerBased: true })
  await sim.pressBurst(PLAIN, { rssi: -61, serviceData: { [BTHOME_UUID]: bthomeServiceData(press(1)) } }, 5, 20)
  await until(() => alerts.length === 1, 'the first alert at the station')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(alerts.length, 1, 'a burst of 5 repeats is one alert')
  t.match(alerts[0], { kind: 'whistle', device: 'whistle-1', rssi: -61, post: 'kiosk-001' }, 'RSSI and the receiving post in the alert')
  await sim.pressBurst(PLAIN, { rssi: -62, serviceData: { [BTHOME_UUID]: bthomeServiceData(press(2)) } }, 5, 20)
  await until(() => alerts.length === 2, 'the second press as a second alert')

  await sim.pressBurst(SECURE, { rssi: -70, serviceData: { [BTHOME_UUID]: bthomeEncrypted(press(1), Buffer.from(KEY, 'hex'), SECURE, 1000) } }, 3, 20)
  await until(() => alerts.some((a) => a.device === 'sos-2'), 'the encrypted press with the right key')
  await sim.pressBurst(SECURE, { rssi: -70, serviceData: { [BTHOME_UUID]: bthomeServiceData(press(9)) } }, 3, 20)
  await until(() => (states.get('sos-2')?.counters.ble_downgrade ?? 0) > 0, 'the downgrade counted in retained device state', 5000)
  t.equal(alerts.filter((a) => a.device === 'sos-2').length, 1, 'the plaintext packet raised nothing')
  await until(() => states.get('whistle-1')?.battery === 87, 'battery in device state')
  t.equal(states.get('whistle-1')?.status, 'online', 'a whistle that was heard is online')
})

t.test('a beacon-mode tag heard through BlueZ goes silent -> missing at the station within its interval plus one tick; back -> restored', async (t) => {
  const SUPERVISION_S = 2
  const TICK_MS = 100
  const TAG = 'AA:BB:CC:00:50:03'
  const { mosq, bus, sim } = await stationAndBluez(t)
  const gw = await bluezGateway(t, mosq, bus, [{ id: 'tag-3', kind: 'ble-whistle', address: TAG, alert_kind: 'whistle', supervision_s: SUPERVISION_S }], { core: { tick_ms: TICK_MS } })
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-ble-supervision' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; value: number; at: number }[] = []
  station.on('message', (_topic, p) => { const j = JSON.parse(p.toString()); alerts.push({ kind: j.kind, value: j.value, at: Date.now() }) })
  await station.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => sim.discovering, 'BlueZ discovery started by the gateway', 10_000)

  // Beacons (battery only, no button event) every 1.1 s: each is a heartbeat for the supervisor.
  const beacon = (): boolean => sim.advertise(TAG, { rssi: -66, serviceData: { [BTHOME_UUID]: bthomeServiceData({ battery: 90 }) } })
  let lastBeacon = 0
  for (let i = 0; i < 4; i++) {
    beacon()
    lastBeacon = Date.now()
    await new Promise((r) => setTimeout(r, 1100))
  }
  t.same(alerts, [], 'no alert while it beacons')
  await until(() => alerts.some((a) => a.kind === 'missing'), 'missing at the station', 10_000)
  const silentFor = alerts.find((a) => a.kind === 'missing')!.at - lastBeacon
  t.comment(`missing at the station ${silentFor} ms after the last beacon (interval ${SUPERVISION_S * 1000} ms, tick ${TICK_MS} ms)`)
  // Lower bound: the beacon left the sim before we noted the time; upper: interval + tick + transport slack on a loaded machine.
  t.ok(silentFor >= SUPERVISION_S * 1000 - 50 && silentFor <= SUPERVISION_S * 1000 + TICK_MS + 1000, `within interval plus one tick (+ slack): ${silentFor} ms`)
  beacon()
  await until(() => alerts.some((a) => a.kind === 'restored'), 'restored when it beacons again', 5000)
  t.equal(alerts.filter((a) => a.kind === 'missing').length, 1, 'one missing alert')
})

t.test('issue 12 §5 through BlueZ: recorded presses replayed after a counter "restart" reach the station only as unverified, with tamper', async (t) => {
  const { mosq, bus, sim } = await stationAndBluez(t)
  const gw = await bluezGateway(t, mosq, bus, [{ id: 'sos-2', kind: 'ble-whistle', address: SECURE, alert_kind: 'sos', key_ref: 'secure', counter_reset_silence_s: 1, dedupe_window_ms: 500 }])
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-ble-replay' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; value: number; unverified?: boolean }[] = []
  station.on('message', (_topic, p) => {
    t.ok(checkPayload('alert', p).ok, 'alert is schema-valid')
    alerts.push(JSON.parse(p.toString()))
  })
  await station.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => sim.discovering, 'BlueZ discovery started by the gateway', 10_000)

  // The attacker records five real presses (encryption counters 1..5) as they go over the air.
  const frame = (c: number) => bthomeEncrypted({ packetId: c, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true }, Buffer.from(KEY, 'hex'), SECURE, c)
  const recorded = [1, 2, 3, 4, 5].map(frame)
  const send = (counter: number) => sim.pressBurst(SECURE, { rssi: -70, serviceData: { [BTHOME_UUID]: recorded[counter - 1] ?? frame(counter) } }, 3, 20)
  for (let c = 1; c <= 5; c++) {
    await send(c)
    await until(() => alerts.length === c, `real press ${c} at the station`)
  }
  t.notOk(alerts.some((a) => a.unverified), 'the real presses are verified')
  const sos = () => alerts.filter((a) => a.kind === 'sos')

  // Past counter_reset_silence_s (1 s here, 60 s by default) and past the device's dedupe window, so
  // the recorded packet ids are not taken for repeats of the real presses.
  await new Promise((r) => setTimeout(r, 1300))
  await send(2) // replay: a counter below the mark after silence passes as a battery-change restart
  await until(() => alerts.some((a) => a.kind === 'tamper') && sos().length === 6, 'tamper and the replayed alarm')
  t.match(alerts.find((a) => a.kind === 'tamper'), { value: 5 }, 'tamper names the old high-water mark')
  t.equal(sos()[5].unverified, true, 'the replayed press is marked unverified at the station')
  await send(3)
  await until(() => sos().length === 7, 'the next recorded frame')
  t.equal(sos()[6].unverified, true, 'also unverified')
  await send(2) // the same recording again: a replay, nothing
  await send(6) // the real button counts on past its old mark: verified again
  await until(() => sos().length === 8, 'the next real press')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(sos().length, 8, 'the replayed frame raised nothing the second time')
  t.notOk(sos()[7].unverified, 'counter 6 is verified')
  t.ok(alerts.some((a) => a.kind === 'restored'), 'tamper restored')
})
