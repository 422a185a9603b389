/**
 * Latency from the D-Bus signal to the handler, under a flood (issue 4 §7):
 *
 *   simulated bluetoothd (child process) --signal--> private dbus-daemon
 *     --> dbus-next --> HwBluezDriver --> onAdvert (A)  --> WhistleReceiver --> sink.input (B)
 *
 * A: every flood advert carries its send time (CLOCK_MONOTONIC via
 *    process.hrtime, same clock in both processes); p50/p99 over all of them.
 * B: button presses (5-repeat BTHome bursts, new packet id each) sent during the
 *    flood; latency from the first repeat's send to the alert's sink.input.
 * The station leg (core -> outbox -> MQTT) is not in this number; the lead's
 * end-to-end benchmark adds it.
 *
 * Run: node --import tsx bench/ble-dbus-latency.ts [runs=3] [seconds=4] [rate=10000]
 */
import os from 'node:os'
import pino from 'pino'
import { systemClock } from '../devices/time/clock.js'
import { Kind } from '../protocols/event-kinds.js'
import { HwBluezDriver } from '../devices/ble-whistle/hw-bluez.js'
import { BTHOME_UUID, type AdvertHandler, type RawAdvert } from '../devices/ble-whistle/raw-advert.js'
import { BLE_WHISTLE_DEFAULTS } from '../devices/ble-whistle/config.js'
import { MemoryReplayCounterStore } from '../devices/ble-whistle/replay-store.js'
import { WhistleReceiver } from '../devices/ble-whistle/whistle-receiver.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../devices/ble-whistle/sim-ble-whistle.js'
import type { DeviceInputSink } from '../devices/device-driver.js'
import { PrivateBus } from '../test/harness/bluez-sim-bus.js'
import { BluezSimProcess } from '../test/harness/bluez-sim-process.js'
import { FLOOD_COMPANY_ID } from '../test/harness/bluez-sim.js'
import { bluezTestOptions } from '../test/harness/bluez-sim-stack.js'
import { median, percentileSorted as pct } from './bench-stats.js'

const RUNS = Number(process.argv[2] ?? 3)
const SECONDS = Number(process.argv[3] ?? 4)
const RATE = Number(process.argv[4] ?? 10_000)
const BUTTON = 'AA:BB:CC:00:60:01'
const BUTTON_DEV = 1

const hr = (): number => Number(process.hrtime.bigint()) / 1e6

interface RunResult { floodN: number; floodP50: number; floodP90: number; floodP99: number; floodMax: number; cpuPct: number; pressN: number; pressP50: number; pressP99: number; sent: number; seconds: number }

async function run(bus: PrivateBus, withFlood: boolean): Promise<RunResult> {
  const sim = await new BluezSimProcess(bus.address).open()
  const floodLat = new Float64Array(RATE * SECONDS + 1000)
  let floodN = 0
  const alertAt = new Map<number, number>()
  const sink: DeviceInputSink = {
    input(device, kind, _value, _hw, _rssi, key) { if (device === BUTTON_DEV && kind === Kind.SOS && !alertAt.has(key)) alertAt.set(key, hr()) },
    linkStatus() {}, count() {},
  }
  const receiver = new WhistleReceiver({
    devices: [{ index: BUTTON_DEV, config: { ...BLE_WHISTLE_DEFAULTS, id: 'button', kind: 'ble-whistle', address: BUTTON, alert_kind: 'sos' } }],
    sink, clock: systemClock, replayStore: new MemoryReplayCounterStore(), gatewayDevice: 0,
  })
  const handler: AdvertHandler = {
    onAdvert(a: RawAdvert) {
      const md = a.manufacturerData?.get(FLOOD_COMPANY_ID)
      if (md !== undefined && md.readUInt32LE(8) !== 0xffffffff) floodLat[floodN++] = hr() - md.readDoubleLE(0)
      receiver.onAdvert(a)
    },
  }
  const driver = new HwBluezDriver({ clock: systemClock, log: pino({ level: 'silent' }), sink }, handler, bluezTestOptions(bus.address))
  await driver.start(new AbortController().signal)
  if (driver.status().state !== 'scanning') throw new Error(`driver not scanning: ${driver.status().reason}`)

  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const flood = withFlood ? sim.flood({ perSecond: RATE, durationMs: SECONDS * 1000, devices: 200 }) : null
  await new Promise((r) => setTimeout(r, 200))
  const sentAt = new Map<number, number>()
  const presses = Math.floor((SECONDS * 1000 - 400) / 40)
  for (let id = 1; id <= presses; id++) {
    const data = bthomeServiceData({ packetId: id, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true })
    const times = await sim.pressBurst(BUTTON, { rssi: -60, serviceData: { [BTHOME_UUID]: data } }, 5, 5)
    sentAt.set(id, times[0])
    await new Promise((r) => setTimeout(r, 15))
  }
  const result = flood ? await flood : { sent: 0, ms: 0 }
  const deadline = Date.now() + 30_000
  while ((alertAt.size < presses || (withFlood && floodN < result.sent)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const cpu = process.cpuUsage(cpu0)
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100
  await driver.stop()
  await sim.close()

  const f = floodLat.slice(0, floodN).sort()
  const p: number[] = []
  for (const [id, t0] of sentAt) { const t1 = alertAt.get(id); if (t1 !== undefined) p.push(t1 - t0) }
  p.sort((a, b) => a - b)
  return {
    floodN, floodP50: pct(f, 50), floodP90: pct(f, 90), floodP99: pct(f, 99), cpuPct, floodMax: f.length ? f[f.length - 1] : NaN,
    pressN: p.length, pressP50: pct(p, 50), pressP99: pct(p, 99), sent: result.sent, seconds: (result.ms ?? 0) / 1000,
  }
}

const bus = await new PrivateBus().open()
try {
  const rows: string[] = []
  const all: RunResult[] = []
  const idle = await run(bus, false)
  rows.push(`| idle (no flood) | - | - | - | - | ${idle.cpuPct.toFixed(0)} | ${idle.pressN} | ${idle.pressP50.toFixed(2)} | ${idle.pressP99.toFixed(2)} |`)
  for (let i = 0; i < RUNS; i++) {
    const r = await run(bus, true)
    all.push(r)
    rows.push(`| flood ${i + 1}: ${r.sent} adverts in ${r.seconds.toFixed(1)} s | ${r.floodN} | ${r.floodP50.toFixed(2)} | ${r.floodP90.toFixed(2)} | ${r.floodP99.toFixed(2)} | ${r.cpuPct.toFixed(0)} | ${r.pressN} | ${r.pressP50.toFixed(2)} | ${r.pressP99.toFixed(2)} |`)
  }
  const cpu = os.cpus()
  console.log(`## BLE: D-Bus signal -> handler / alert latency under a ${RATE}/s flood\n`)
  console.log(`${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.platform()} ${os.arch()}, ${cpu.length} x ${cpu[0]?.model ?? '?'}; dbus-daemon private bus, simulated bluetoothd in a child process.\n`)
  console.log('| run | flood adverts delivered | flood p50 ms | flood p90 ms | flood p99 ms | gateway CPU % | presses | press->alert p50 ms | press->alert p99 ms |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
  console.log(`\nMedian over ${RUNS} flood runs: advert p50 ${median(all.map((r) => r.floodP50)).toFixed(2)} ms, p99 ${median(all.map((r) => r.floodP99)).toFixed(2)} ms; press->alert p50 ${median(all.map((r) => r.pressP50)).toFixed(2)} ms, p99 ${median(all.map((r) => r.pressP99)).toFixed(2)} ms. Every flood advert and every press delivered: ${all.every((r) => r.floodN === r.sent && r.pressN > 0) ? 'yes' : 'NO'}.`)
} finally {
  await bus.close()
}
