/**
 * The rows of bench/core-gc.ts, each run alone in a `--trace-gc` child.
 * The measured window is bracketed by two forced GCs (gc-trace.ts reads the
 * trace between them); the driving loops allocate nothing of their own
 * (slices chained with setImmediate: one Immediate per 1,000 events).
 */
import { pino } from 'pino'
import { systemClock } from '../devices/time/clock.js'
import { DeviceTable } from '../gateway/core/device-table.js'
import { EventCore, type CoreEvent, type EventSink } from '../gateway/core/event-core.js'
import { MemorySequence } from '../gateway/core/sequence.js'
import { Kind } from '../protocols/event-kinds.js'
import { AlertEncoder } from '../protocols/mqtt/alert-encoder.js'
import { StateTracker } from '../gateway/state/state-tracker.js'
import { EmbeddedBroker } from '../gateway/broker/embedded-broker.js'
import { LocalFanoutSink } from '../gateway/sinks/local-fanout-sink.js'
import { BluezAdvertStream } from '../devices/ble-whistle/bluez-advert-stream.js'
import { WhistleReceiver, type WhistleDeviceSpec } from '../devices/ble-whistle/whistle-receiver.js'
import { BLE_WHISTLE_DEFAULTS } from '../devices/ble-whistle/config.js'
import { BTHOME_UUID } from '../devices/ble-whistle/raw-advert.js'
import { MemoryReplayCounterStore } from '../devices/ble-whistle/replay-store.js'
import { RollCall } from '../gateway/roll-call/roll-call.js'

const WARMUP = 200_000
const SLICE = 1000

class CountingSink implements EventSink {
  readonly name = 'count'
  events = 0
  alerts = 0
  bytes = 0
  onEvent(ev: CoreEvent): void {
    this.events++
    if (ev.kind < 32) this.alerts++
    this.bytes += ev.payloadLength
  }
}

function build(kind: 'panic-button' | 'ble-whistle', n: number) {
  const specs = Array.from({ length: n }, (_, i) => ({ id: `dev-${i}`, kind, label: `Device ${i}`, location: 'counter' }))
  const devices = new DeviceTable(specs, { keyedDedupeMs: 10_000, unkeyedDedupeMs: 0 })
  const encoder = new AlertEncoder({ site: 'bench-city', post: 'kiosk-001', postType: 'safety_house' })
  for (const e of devices.entries) encoder.internDevice({ id: e.id, kind: e.kind, label: e.label, location: e.location })
  const core = new EventCore({ clock: systemClock, devices, encoder, sequence: new MemorySequence() })
  const state = new StateTracker(devices, (seq) => encoder.id(seq))
  const sink = new CountingSink()
  return { core, devices, state, sink, encoder }
}

/** Call `step(from, count)` in slices of SLICE, one event-loop turn per slice (state lanes drain between). */
function drive(total: number, step: (from: number, count: number) => void): Promise<number> {
  return new Promise((resolve) => {
    let done = 0
    const t0 = performance.now()
    const next = (): void => {
      step(done, SLICE)
      done += SLICE
      if (done < total) setImmediate(next)
      else resolve(performance.now() - t0)
    }
    next()
  })
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => { throw new Error('run with --expose-gc') })

export interface Bracket { start(): void; stop(): Promise<{ minor: number; major: number }> }

export async function runRow(row: string, n: number, bracket: Bracket) {
  let step: (from: number, count: number) => void
  let alerts = (): number => 0
  let cleanup = async (): Promise<void> => {}
  const clock = systemClock
  if (row === 'ble') {
    const DEVICES = 16
    const { core, devices, state, sink } = build('ble-whistle', DEVICES)
    core.addSink(state)
    core.addSink(sink)
    const specs: WhistleDeviceSpec[] = devices.entries.slice(0, DEVICES).map((e, d) => ({
      index: e.index,
      config: { ...BLE_WHISTLE_DEFAULTS, kind: 'ble-whistle' as const, id: e.id, address: mac(d), alert_kind: 'whistle' as const },
    }))
    const rx = new WhistleReceiver({ devices: specs, sink: core, clock, replayStore: new MemoryReplayCounterStore() })
    const stream = new BluezAdvertStream(clock, rx, '/org/bluez/hci0', () => {}, (e) => { throw e })
    const paths = Array.from({ length: DEVICES + 2 }, (_, d) => `/org/bluez/hci0/dev_${mac(d).replaceAll(':', '_')}`) // 2 unknown devices
    // What dbus-next hands us for PropertiesChanged(Device1, {RSSI, ServiceData}): built once per
    // (packet id); dbus-next's own allocation per signal is not ours to remove.
    // BTHome v2: packet id, battery, button (press only on 1 packet id in 64: alerts are rare).
    const signals = Array.from({ length: 256 }, (_, pid) => ({
      RSSI: { signature: 'n', value: -60 - (pid & 15) },
      ServiceData: { signature: 'a{sv}', value: { [BTHOME_UUID]: { signature: 'ay', value: Buffer.from([0x44, 0x00, pid, 0x01, 0x64, 0x3a, pid % 64 === 0 ? 1 : 0]) } } },
    }))
    step = (from, count) => {
      for (let i = from; i < from + count; i++) {
        // Bursts of 8 repeats of one packet from one device, devices round-robin.
        const burst = i >>> 3
        stream.propertiesChanged(paths[burst % paths.length], signals[((burst / paths.length) | 0) & 255])
      }
    }
    alerts = () => sink.alerts
  } else {
    const { core, devices, state, sink, encoder } = build('panic-button', 32)
    const nDev = devices.size - 1
    if (row === 'aedes') {
      const broker = new EmbeddedBroker({ broker: { enabled: false, host: '127.0.0.1', port: 0, max_clients: 1, max_packet_bytes: 16384, connect_timeout_ms: 5000, queue_limit: 10, login: { concurrency: 1, queue: 16, address_failures: 5, user_failures: 10, backoff_max_s: 60, forget_after_s: 900, exempt: [] }, users: [] }, site: 'bench-city', post: 'kiosk-001', group: null, passwords: {}, log: pino({ level: 'silent' }) })
      await broker.start()
      core.addSink(new LocalFanoutSink(broker, devices.entries.map((e) => `safehouse/v1/bench-city/kiosk-001/alert/${e.id}`)))
      cleanup = () => broker.stop()
    }
    if (row === 'gate') {
      // Issue 15: the gateway hands drivers the roll-call gate, not the core. A roll call runs and
      // was answered: battery state passes through, every 8th input is a repeated check-in (counted).
      const gate = new RollCall({ clock, core, setRollCallId: (id) => encoder.setRollCall(id), show: () => {}, log: pino({ level: 'silent' }) })
      core.setHealthListener(state)
      core.addSink(state)
      core.addSink(sink)
      gate.start({ id: 'rc-bench', deadline_s: 3600 }, 'bench')
      gate.input(1, Kind.CHECK_IN, 1, clock.now(), NaN, -1)
      step = (from, count) => {
        for (let i = from; i < from + count; i++) {
          if ((i & 7) === 0) gate.input(1 + (i % nDev), Kind.CHECK_IN, 1, clock.now(), NaN, -1)
          else gate.input(1 + (i % nDev), Kind.BATTERY, 50 + (i & 31), clock.now(), -60, i)
        }
      }
      alerts = () => sink.alerts
      cleanup = async () => gate.stop()
      return finish()
    }
    const kind = row === 'state' ? Kind.BATTERY : row === 'repeats' ? Kind.WHISTLE : Kind.PANIC
    if (row === 'state') core.addSink(state) // alerts open an alert record in the tracker: allocates by design
    core.addSink(sink)
    const sameKey = row === 'repeats'
    step = (from, count) => {
      // As a driver does: read the clock for each input it hands over.
      for (let i = from; i < from + count; i++) core.input(1 + (i % nDev), kind, 50 + (i & 31), clock.now(), -60, sameKey ? 7 : i)
    }
    alerts = () => sink.alerts
  }
  return finish()

  async function finish() {
  await drive(WARMUP, step) // JIT, inline caches, lane and pool sizes
  const a0 = alerts()
  gc()
  bracket.start()
  gc() // opens the measured window in the trace
  const ms = await drive(n, (from, count) => step(WARMUP + from, count))
  gc() // closes it
  const obs = await bracket.stop()
  await cleanup()
  return { events: n, ms, observerMinor: obs.minor, observerMajor: obs.major, alerts: alerts() - a0 }
  }
}

function mac(d: number): string {
  return `3C:2E:F5:00:00:${d.toString(16).padStart(2, '0').toUpperCase()}`
}
