/**
 * Issue 3 §7 end to end: from the Firmata peer's pin-change write to the
 * alert at a station subscriber, through the whole gateway: serialport on a
 * socat PTY -> firmata-io -> press detector -> event core -> outbox -> mqtt.js
 * uplink -> a real mosquitto -> an mqtt.js station subscriber.
 * debounce_ms 0 and core.dedupe_ms 0 so every press is measured as fast as the
 * pipeline allows; the 30 ms default debounce is added on top in production
 * (bench/panic-latency.ts shows it, and johnny-five's own, separately).
 */
import mqtt from 'mqtt'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { PtyPair } from '../test/harness/pty-pair.js'
import { FirmataPeer } from '../test/harness/firmata-peer.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { summarize, ms, machineLine } from './bench-stats.js'

const PRESSES = Number(process.argv[2] ?? 1000)
const WARMUP = 50

const mosq = await new Mosquitto().start()
const pty = await new PtyPair('bench-panic').open()
const peer = await FirmataPeer.open(pty.b)
const { gw, cleanup } = await testGateway({
  stationUrl: mosq.url,
  extra: {
    core: { dedupe_ms: 0 },
    boards: [{ id: 'main', port: pty.a, version_query_ms: 100 }],
    devices: [{ id: 'counter', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2, debounce_ms: 0 }],
  },
})
const station = await mqtt.connectAsync(mosq.url, { clientId: 'bench-station' })
let arrived = 0n
let count = 0
station.on('message', () => { arrived = process.hrtime.bigint(); count++ })
await station.subscribeAsync('safehouse/v1/test-city/kiosk-001/alert/+', { qos: 1 })
await gw.start()
await until(() => gw.uplink.connected, 'the uplink', 15_000)
await peer.until(() => peer.isReportingDigital(2), 'the board reporting pin 2', 15_000)

const samples: number[] = []
for (let i = 0; i < PRESSES + WARMUP; i++) {
  const before = count
  const sent = peer.setDigital(2, 0)
  await until(() => count > before, `press ${i} at the station`, 5000)
  if (i >= WARMUP) samples.push(Number(arrived - sent) / 1e6)
  peer.setDigital(2, 1)
  await new Promise((r) => setTimeout(r, 8))
  gw.outbox.pending().forEach((e) => gw.outbox.ack(e.id)) // keep the outbox small, as station acks would
}
const s = summarize(samples)
console.log(`## Panic button end to end: Firmata pin change -> station subscriber (bench/panic-station-latency.ts)

${machineLine()}. Command: \`node --import tsx bench/panic-station-latency.ts ${PRESSES}\`.
Firmata peer on a socat PTY -> serialport -> firmata-io -> gateway (press detector, core, outbox, uplink) -> mosquitto -> subscriber.
debounce_ms 0 (add the configured debounce, 30 ms by default, in production). ${WARMUP} warm-up presses discarded.

| presses | p50 ms | p99 ms | p99.9 ms | max ms |
|---:|---:|---:|---:|---:|
| ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} |
`)
await station.endAsync()
await cleanup()
await peer.close()
await pty.close()
await mosq.close()
process.exit(0)
