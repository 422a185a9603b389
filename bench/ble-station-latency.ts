/**
 * Issue 4 §7 end to end: from the D-Bus signal of a button press (first
 * repeat sent by the simulated bluetoothd in a child process) to the alert at
 * a station subscriber, through the whole gateway (HwBluezDriver ->
 * WhistleReceiver -> core -> outbox -> uplink -> mosquitto), under a flood of
 * 10,000 advertisements per second from 200 other devices.
 * Run: node --import tsx bench/ble-station-latency.ts [seconds=6] [rate=10000]
 */
import mqtt from 'mqtt'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { PrivateBus } from '../test/harness/bluez-sim-bus.js'
import { BluezSimProcess } from '../test/harness/bluez-sim-process.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { BTHOME_UUID } from '../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../devices/ble-whistle/sim-ble-whistle.js'
import { summarize, ms, machineLine } from './bench-stats.js'

const SECONDS = Number(process.argv[2] ?? 6)
const RATE = Number(process.argv[3] ?? 10_000)
const BUTTON = 'AA:BB:CC:00:70:01'
const hr = (): number => Number(process.hrtime.bigint()) / 1e6 // CLOCK_MONOTONIC: same clock as the sim process

const mosq = await new Mosquitto().start()
const bus = await new PrivateBus().open()
const sim = await new BluezSimProcess(bus.address).open()
const { gw, cleanup } = await testGateway({
  stationUrl: mosq.url,
  extra: {
    ble: { driver: 'bluez', bus_address: bus.address },
    devices: [{ id: 'sos-1', kind: 'ble-whistle', address: BUTTON, alert_kind: 'sos' }],
  },
})
const station = await mqtt.connectAsync(mosq.url, { clientId: 'bench-station' })
const arrivals: number[] = []
station.on('message', () => arrivals.push(hr()))
await station.subscribeAsync('safehouse/v1/test-city/kiosk-001/alert/+', { qos: 1 })
await gw.start()
await until(() => gw.uplink.connected, 'the uplink', 15_000)
await new Promise((r) => setTimeout(r, 500)) // discovery running

const flood = sim.flood({ perSecond: RATE, durationMs: SECONDS * 1000, devices: 200 })
await new Promise((r) => setTimeout(r, 300))
const sent: number[] = []
const presses = Math.floor((SECONDS * 1000 - 600) / 40)
for (let id = 1; id <= presses; id++) {
  const data = bthomeServiceData({ packetId: id % 256, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true })
  const times = await sim.pressBurst(BUTTON, { rssi: -60, serviceData: { [BTHOME_UUID]: data } }, 5, 5)
  sent.push(times[0])
  await new Promise((r) => setTimeout(r, 15))
}
const f = await flood
await until(() => arrivals.length >= presses, 'every press at the station', 30_000).catch(() => {})
const samples = sent.slice(0, arrivals.length).map((t0, i) => arrivals[i] - t0)
const s = summarize(samples)
console.log(`## BLE end to end: D-Bus signal -> station subscriber under a ${RATE}/s flood (bench/ble-station-latency.ts)

${machineLine()}. Command: \`node --import tsx bench/ble-station-latency.ts ${SECONDS} ${RATE}\`. Private dbus-daemon, simulated
bluetoothd in a child process sending ${f.sent} flood adverts in ${((f.ms ?? 0) / 1000).toFixed(1)} s from 200 devices; one button pressed
every ~40 ms (bursts of 5 repeats); gateway with HwBluezDriver and a real mosquitto as the station. Latency from the first repeat's
send to the alert's arrival at the station subscriber; alerts matched to presses in order (each press is exactly one alert).

| presses | alerts at the station | p50 ms | p99 ms | max ms |
|---:|---:|---:|---:|---:|
| ${presses} | ${arrivals.length} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |
`)
await station.endAsync()
await cleanup()
await sim.close()
await bus.close()
await mosq.close()
process.exit(0)
