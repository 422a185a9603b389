/**
 * The event core (DESIGN §2, issue 2 §5): drivers report inputs here; the
 * core dedupes, queues by priority and hands each event to the sinks
 * (embedded broker, station outbox, actuators, state, supervisor).
 *
 * Hot path discipline: input() writes numbers into a preallocated lane; the
 * drain loop fills ONE reused CoreEvent view and encodes alerts into ONE
 * pooled buffer. No closures, promises, strings or Buffer.concat per event.
 * A sink that must keep the payload calls ev.retainPayload(), which copies it
 * once per event and shares the copy between sinks.
 *
 * Priority: alerts drain completely before any state/telemetry event; state
 * drains at most STATE_BUDGET per turn, then yields (setImmediate) so I/O and
 * new alerts get in.
 */
import type { DeviceInputSink, DeviceLinkStatus } from '../../devices/device-driver.js'
import type { Clock } from '../../devices/time/clock.js'
import type { AlertEncoder } from '../../protocols/mqtt/alert-encoder.js'
import { EventClass, InputFlag, Kind, kindClass } from '../../protocols/event-kinds.js'
import { EventLane } from './event-lane.js'
import { Dedupe } from './dedupe.js'
import type { DeviceTable } from './device-table.js'
import type { SequenceSource } from './sequence.js'

export interface CoreEvent {
  device: number
  kind: number
  cls: EventClass
  value: number
  hwTime: number
  rssi: number
  /** Alerts only: the sequence number (0 for state events). */
  seq: number
  sentTime: number
  test: boolean
  /** The driver could not prove the input fresh (InputFlag.UNVERIFIED). */
  unverified?: boolean
  /** Alerts only: the encoded payload lives in payload[0, payloadLength). Valid during onEvent only. */
  payload: Buffer
  payloadLength: number
  /** A stable copy of the payload, made once per event and shared by all sinks that call it. */
  retainPayload(): Buffer
}

export interface EventSink {
  readonly name: string
  onEvent(ev: CoreEvent): void
}

/** Link/counter reports from drivers, off the hot path. */
export interface DeviceHealthListener {
  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void
  count(device: number, counter: string, by: number): void
}

export interface CoreCounters {
  accepted: number
  duplicates: number
  overflows: number
  sinkErrors: number
  badInputs: number
}

const STATE_BUDGET = 256

/**
 * Alert kinds whose value says WHICH fault it is (restored: the kind cleared + 256 × detail;
 * channel/lamp/device fault: the channel or cause). Two of them from one device in the same
 * instant are different events, not a repeat: issue 11 §3 (mains back and battery no longer
 * low in one poll lost the second `restored`). Their unkeyed dedupe key is derived from the
 * value, kept negative so the short unkeyed window still applies to a true repeat.
 */
const VALUE_IS_IDENTITY = new Uint8Array(64)
VALUE_IS_IDENTITY[Kind.RESTORED] = 1
VALUE_IS_IDENTITY[Kind.CHANNEL_FAULT] = 1
VALUE_IS_IDENTITY[Kind.LAMP_FAULT] = 1
VALUE_IS_IDENTITY[Kind.DEVICE_FAULT] = 1

class EventView implements CoreEvent {
  device = 0
  kind = 0
  cls: EventClass = EventClass.ALERT
  value = 0
  hwTime = 0
  rssi = 0
  seq = 0
  sentTime = 0
  test = false
  unverified = false
  payload: Buffer
  payloadLength = 0
  private copy: Buffer | null = null
  constructor(pool: Buffer) { this.payload = pool }
  reset(): void { this.copy = null; this.payloadLength = 0; this.seq = 0 }
  retainPayload(): Buffer {
    if (this.copy === null) {
      this.copy = Buffer.allocUnsafe(this.payloadLength)
      this.payload.copy(this.copy, 0, 0, this.payloadLength)
    }
    return this.copy
  }
}

export interface EventCoreOptions {
  clock: Clock
  devices: DeviceTable
  encoder: AlertEncoder
  sequence: SequenceSource
  alertLaneSize?: number
  stateLaneSize?: number
  /** Called for each sink exception (the sink is isolated: others still run). */
  onSinkError?: (sink: string, err: unknown) => void
}

export class EventCore implements DeviceInputSink {
  private readonly alerts: EventLane
  private readonly states: EventLane
  private readonly dedupe: Dedupe
  private readonly view: EventView
  private sinks: EventSink[] = []
  private health: DeviceHealthListener | null = null
  private draining = false
  private batchTime = 0
  private scheduled = false
  private readonly boundDrain = (): void => { this.scheduled = false; this.drain() }
  /** Walk-test mode: every alert is marked test (issue 7). */
  testMode = false
  readonly counters: CoreCounters = { accepted: 0, duplicates: 0, overflows: 0, sinkErrors: 0, badInputs: 0 }

  constructor(private readonly opts: EventCoreOptions) {
    this.alerts = new EventLane(opts.alertLaneSize ?? 4096)
    this.states = new EventLane(opts.stateLaneSize ?? 8192)
    this.dedupe = new Dedupe(opts.devices.size, opts.devices.keyedDedupeMs, opts.devices.unkeyedDedupeMs)
    this.view = new EventView(Buffer.alloc(Math.max(1024, opts.encoder.maxLength)))
  }

  addSink(sink: EventSink): void {
    this.sinks.push(sink)
  }

  setHealthListener(listener: DeviceHealthListener): void {
    this.health = listener
  }

  /** DeviceInputSink: the hot path. */
  input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number, flags = 0): boolean {
    // `(x | 0) === x` also refuses fractions, which the typed-array lanes would silently truncate.
    if (!(device >= 0 && device < this.opts.devices.size && (device | 0) === device) || !(kind >= 0 && kind < 64 && (kind | 0) === kind)) {
      this.counters.badInputs++
      return false
    }
    const cls = kindClass(kind)
    // Dedupe windows run on the input's own hardware time: reading a clock here would box a
    // double per input (measured: bench/core-gc.ts), and hwTime is what the window is about.
    const key = dedupeKey < 0 && VALUE_IS_IDENTITY[kind] === 1 && value >= 0 && value < 2 ** 31 ? -2 - value : dedupeKey
    if (cls === EventClass.ALERT && this.dedupe.isDuplicate(device, kind, key, hwTime)) {
      this.counters.duplicates++
      return false
    }
    const lane = cls === EventClass.ALERT ? this.alerts : this.states
    if (!lane.push(device, kind, value, hwTime, rssi, flags)) {
      // Only reachable when sinks re-enter faster than we drain: drain now rather than lose it.
      this.counters.overflows++
      this.drain()
      if (!lane.push(device, kind, value, hwTime, rssi, flags)) return false
    }
    this.counters.accepted++
    if (!this.draining) this.drain()
    return true
  }

  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.health?.linkStatus(device, status, reason)
  }

  count(device: number, counter: string, by = 1): void {
    // A driver's own merge of repeats (BLE burst dedupe) is a duplicate like the core's (issue 11 §10).
    if (counter === 'duplicates') this.counters.duplicates += by
    this.health?.count(device, counter, by)
  }

  /** Events waiting (both lanes). */
  get backlog(): number {
    return this.alerts.size + this.states.size
  }

  private drain(): void {
    if (this.draining) return
    this.draining = true
    // At most one clock read per drain, and only if an alert is dispatched: Date.now() returns
    // a heap number on Node 20 (16 bytes each, bench/core-gc.ts). Events drained together
    // share their sent time; state events take their hardware time.
    this.batchTime = NaN
    try {
      let budget = STATE_BUDGET
      for (;;) {
        if (this.alerts.size > 0) this.dispatch(this.alerts, EventClass.ALERT)
        else if (this.states.size > 0 && budget-- > 0) this.dispatch(this.states, EventClass.STATE)
        else break
      }
    } finally {
      this.draining = false
    }
    if (this.states.size > 0 && !this.scheduled) {
      this.scheduled = true
      setImmediate(this.boundDrain)
    }
  }

  private dispatch(lane: EventLane, cls: EventClass): void {
    const i = lane.peek()
    const v = this.view
    v.reset()
    v.device = lane.device[i]
    v.kind = lane.kind[i]
    v.cls = cls
    v.value = lane.value[i]
    v.hwTime = lane.hwTime[i]
    v.rssi = lane.rssi[i]
    v.unverified = (lane.flags[i] & InputFlag.UNVERIFIED) !== 0
    lane.shift()
    v.sentTime = v.hwTime
    v.test = this.testMode || v.kind === Kind.TEST
    if (cls === EventClass.ALERT) {
      if (this.batchTime !== this.batchTime) this.batchTime = this.opts.clock.now() // NaN check without a call
      v.sentTime = this.batchTime
      v.seq = this.opts.sequence.next()
      v.payloadLength = this.opts.encoder.encode(v, v.payload)
    }
    const sinks = this.sinks
    for (let s = 0; s < sinks.length; s++) {
      try {
        sinks[s].onEvent(v)
      } catch (err) {
        // One failing listener never stops the others (DESIGN §7, zigbee2mqtt's bus).
        this.counters.sinkErrors++
        this.opts.onSinkError?.(sinks[s].name, err)
      }
    }
  }
}
