/**
 * Issue 11 on the real BLE stack (BlueZ simulation on a private dbus-daemon,
 * the gateway with `ble.driver: bluez`, mosquitto as the station):
 *  §7  the adapter unplugged for a few seconds shows in the retained gateway
 *      state (`ble.status: fault` with the reason), `safehouse status` reads it
 *      as a problem (exit 3), and the outage stays counted after it ended;
 *  §8  the device state's RSSI is the latest advert's, not the first of the
 *      heartbeat window;
 *  §10 the repeats of a press burst are counted as `duplicates`, in the
 *      device's counters and the gateway's.
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PrivateBus } from '../harness/bluez-sim-bus.js'
import { BluezSim } from '../harness/bluez-sim.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { buildStatus } from '../../provisioning/status/post-status.js'
import { BTHOME_UUID } from '../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../devices/ble-whistle/sim-ble-whistle.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'
const TAG = 'AA:BB:CC:00:51:01'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function blePost(t: Test) {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSim(bus.address).start()
  t.teardown(() => sim.stop())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: {
      ble: { driver: 'bluez', bus_address: bus.address, retry_min_ms: 100, retry_max_ms: 500 },
      devices: [{ id: 'whistle-1', kind: 'ble-whistle', address: TAG, alert_kind: 'whistle' }],
    },
  })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: `station-ble-faults-${Math.random()}` })
  t.teardown(() => station.endAsync())
  const retained = new Map<string, Buffer>()
  const alerts: Json[] = []
  const gatewayStates: Json[] = []
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) { alerts.push(JSON.parse(p.toString())); return }
    retained.set(topic, Buffer.from(p))
    if (topic === `${ROOT}/state`) {
      t.ok(checkPayload('gatewayState', p).ok, 'gateway state is schema-valid')
      gatewayStates.push(JSON.parse(p.toString()))
    }
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/state`, `${ROOT}/status`, `${ROOT}/device/+/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => sim.discovering, 'discovery', 10_000)
  const device = (): Json | undefined => { const b = retained.get(`${ROOT}/device/whistle-1/state`); return b ? JSON.parse(b.toString()) : undefined }
  const status = () => buildStatus(retained, { now: Date.now(), staleAfterMs: 60_000, source: { kind: 'station', url: 'test' } })
  return { gw, sim, alerts, gatewayStates, device, status }
}

t.test('the BLE adapter gone for seconds: gateway state and status show it, and it stays counted (issue 11 §7)', async (t) => {
  const post = await blePost(t)
  await until(() => post.gatewayStates.at(-1)?.ble?.status === 'online', 'ble online in the gateway state')
  post.sim.removeAdapter()
  await until(() => post.gatewayStates.at(-1)?.ble?.status === 'fault', 'ble fault in the retained gateway state', 5000)
  t.match(post.gatewayStates.at(-1)!.ble.reason, /adapter hci0 not found/, 'with the reason')
  const during = post.status()
  t.equal(during.exit_code, 3, 'safehouse status exits 3 while the adapter is gone')
  t.match(during.posts[0].problems.join('\n'), /BLE scanner fault: .*hci0/)
  post.sim.addAdapter()
  await until(() => post.gatewayStates.at(-1)?.ble?.status === 'online', 'ble online again', 10_000)
  t.equal(post.status().exit_code, 0, 'fine again')
  t.ok((post.gatewayStates.at(-1)!.ble.counters.ble_transport_faults ?? 0) >= 1, 'the outage stays counted (ble_transport_faults)')
})

t.test('RSSI in the device state is the latest advert\'s (issue 11 §8); burst repeats are counted as duplicates (§10)', async (t) => {
  const post = await blePost(t)
  // A beacon moving closer: 8 adverts 60 ms apart, all inside one heartbeat window after the first.
  for (let i = 0; i < 8; i++) {
    post.sim.advertise(TAG, { rssi: -90 + 6 * i, serviceData: { [BTHOME_UUID]: bthomeServiceData({ battery: 80 }) } })
    await new Promise((r) => setTimeout(r, 60))
  }
  const last = -90 + 6 * 7
  await until(() => post.device()?.rssi === last, `device state RSSI ${last} (the latest advert)`, 5000)
  t.pass(`RSSI ${last}, not the window's first (-90)`)

  // The 7 identical beacon re-sends above were merged too (same payload within dedupe_window_ms).
  await until(() => (post.device()?.counters.duplicates ?? 0) === 7, 'the 7 identical beacon re-sends counted', 5000)
  const press = bthomeServiceData({ packetId: 5, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true })
  await post.sim.pressBurst(TAG, { rssi: -50, serviceData: { [BTHOME_UUID]: press } }, 5, 20)
  await until(() => post.alerts.length === 1, 'the press at the station')
  await until(() => (post.device()?.counters.duplicates ?? 0) === 7 + 4, 'the 4 repeats of the burst counted in the device state', 5000)
  await until(() => (post.gatewayStates.at(-1)?.counters.duplicates ?? 0) >= 11, 'and in the gateway counters', 70_000)
  t.equal(post.alerts.length, 1, 'one alert for the burst')
})
