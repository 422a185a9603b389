/**
 * Issue 5 §5 through the whole gateway: from an alert entering the event core
 * (core.input, as a button driver does) to the alarm pattern's write request
 * arriving at the Modbus slave on the wire, while the lamp box is polled every
 * 200 ms: core -> LampSink -> HwModbusLampBox -> modbus-serial -> serialport
 * -> socat PTY -> slave.
 */
import { PtyPair } from '../test/harness/pty-pair.js'
import { LampBoxSlave } from '../test/harness/lamp-box-slave.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { PATTERN_CODE } from '../protocols/lamp-box/register-map.js'
import { Kind } from '../protocols/event-kinds.js'
import { summarize, ms, machineLine } from './bench-stats.js'

const RUNS = Number(process.argv[2] ?? 300)
const WARMUP = 20
const pty = await new PtyPair('bench-lamp').open()
const slave = new LampBoxSlave(pty.b)
await slave.open()
const { gw, cleanup } = await testGateway({
  extra: {
    core: { dedupe_ms: 0 },
    devices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: pty.a, poll_ms: 200, unit_id: 1 },
    ],
  },
})
await gw.start()
await until(() => slave.requests.some((r) => r.fc === 4), 'the first poll', 10_000)
let wrote = 0
slave.onPatternWrite = (p, at) => { if (p === PATTERN_CODE.alarm) wrote = at }
const button = gw.devices.indexOf('counter-button')
const samples: number[] = []
for (let i = 0; i < RUNS + WARMUP; i++) {
  wrote = 0
  await new Promise((r) => setTimeout(r, Math.random() * 200)) // land anywhere in the poll cycle
  const t0 = performance.now()
  gw.core.input(button, Kind.PANIC, 1, Date.now(), NaN, i + 1)
  await until(() => wrote > 0, `alarm write ${i}`, 5000)
  if (i >= WARMUP) samples.push(wrote - t0)
  gw.lamp?.set('normal', 'bench reset')
  await until(() => slave.model.pattern === PATTERN_CODE.normal, 'back to normal', 5000)
}
const s = summarize(samples)
console.log(`## Lamp box through the gateway: alert into the core -> alarm write on the wire (bench/lamp-core-latency.ts)

${machineLine()}. Command: \`node --import tsx bench/lamp-core-latency.ts ${RUNS}\`. Polling every 200 ms; each alert lands at a
random point of the poll cycle; a PTY has no baud rate (on a 19200 8E1 line add ~9 ms for the write frame, and up to one poll
transaction when the alert lands mid-poll). ${WARMUP} warm-up runs discarded.

| runs | p50 ms | p99 ms | max ms |
|---:|---:|---:|---:|
| ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |
`)
await cleanup()
await slave.close()
await pty.close()
process.exit(0)
