/**
 * Retained state for maintainers (issue 2 §8, issue 6 §4): per device status,
 * last seen, battery, RSSI, active faults, counters and the last alert with
 * who acknowledged it; per gateway the open alerts and recent acks.
 *
 * onEvent() is on the hot path and only writes numbers into typed arrays and
 * sets dirty flags; JSON is built by the publisher at most once per second
 * per device (latest value, never queued).
 */
import type { DeviceLinkStatus } from '../../devices/device-driver.js'
import type { CoreEvent, DeviceHealthListener, EventSink } from '../core/event-core.js'
import { EventClass, Kind, KIND_NAMES } from '../../protocols/event-kinds.js'
import type { DeviceTable } from '../core/device-table.js'
import { isFaultKind, isRaisedByGateway } from './fault-kinds.js'

export interface AlertRecord {
  id: string
  device: string
  kind: string
  hw_time: number
  acknowledged_by: string | null
  acknowledged_at: number | null
}

const MAX_OPEN = 50
/** Fault kinds whose value says which one (docs/devices/lamp-box.md: channel 1 red / 2 blue, fault causes). */
const DETAILED: ReadonlySet<number> = new Set([Kind.CHANNEL_FAULT, Kind.LAMP_FAULT, Kind.DEVICE_FAULT])
const MAX_ACKS = 20

export class StateTracker implements EventSink, DeviceHealthListener {
  readonly name = 'state'
  readonly lastSeen: Float64Array
  readonly battery: Float64Array
  readonly rssi: Float64Array
  readonly faults: Uint32Array
  readonly dirty: Uint8Array
  readonly status: DeviceLinkStatus[]
  readonly statusReason: string[]
  readonly counters: Map<string, number>[]
  readonly lastAlert: (AlertRecord | null)[]
  /** Reads the lamp box's current pattern (shown in its device state); none without a lamp box. */
  lampSource: (() => string) | null = null
  readonly open = new Map<string, AlertRecord>()
  /** Standing details of DETAILED kinds, by device × 64 + kind (off the hot path: alerts are rare). */
  private readonly details = new Map<number, Set<number>>()
  readonly recentAcks: AlertRecord[] = []
  gatewayDirty = true

  constructor(private readonly devices: DeviceTable, private readonly idOf: (seq: number) => string) {
    const n = devices.size
    this.lastSeen = new Float64Array(n).fill(NaN)
    this.battery = new Float64Array(n).fill(NaN)
    this.rssi = new Float64Array(n).fill(NaN)
    this.faults = new Uint32Array(n)
    this.dirty = new Uint8Array(n).fill(1)
    this.status = new Array<DeviceLinkStatus>(n).fill('starting')
    this.statusReason = new Array<string>(n).fill('')
    this.counters = Array.from({ length: n }, () => new Map<string, number>())
    this.lastAlert = new Array<AlertRecord | null>(n).fill(null)
  }

  /**
   * A kind with a detail (channel, cause) can stand twice at once: red AND blue channel faulty.
   * Restoring one clears the kind only when no other detail of it stands (issue 11 §3: the
   * device must not show fine while one of two faults remains). Detail 0 clears them all.
   */
  private clearFault(d: number, kind: number, detail: number): void {
    const key = d * 64 + kind
    const set = this.details.get(key)
    if (set && detail > 0) {
      set.delete(detail)
      if (set.size > 0) return
    }
    this.details.delete(key)
    this.faults[d] &= ~(1 << kind)
  }

  onEvent(ev: CoreEvent): void {
    const d = ev.device
    this.dirty[d] = 1
    if (!isRaisedByGateway(ev.kind)) {
      if (!Number.isNaN(ev.hwTime)) this.lastSeen[d] = ev.hwTime
      if (!Number.isNaN(ev.rssi)) this.rssi[d] = ev.rssi
      // Radio devices have no link of their own (the scanner reports on the gateway device):
      // hearing from a device is what puts it online.
      if (this.status[d] === 'starting') this.status[d] = 'online'
    }
    if (ev.cls === EventClass.STATE) {
      if (ev.kind === Kind.BATTERY) this.battery[d] = ev.value
      return
    }
    if (ev.kind === Kind.RESTORED) {
      // value = restored kind + 256 × detail (docs/protocol.md §Alert)
      const k = ev.value % 256
      if (k >= 0 && k < 32) this.clearFault(d, k, Math.floor(ev.value / 256))
    } else if (isFaultKind(ev.kind)) {
      this.faults[d] |= 1 << ev.kind
      if (DETAILED.has(ev.kind) && ev.value >= 1 && ev.value < 256 && Number.isInteger(ev.value)) {
        const key = d * 64 + ev.kind
        let set = this.details.get(key)
        if (!set) this.details.set(key, (set = new Set()))
        set.add(ev.value)
      }
    }
    if (ev.kind === Kind.LOW_BATTERY && Number.isFinite(ev.value)) this.battery[d] = ev.value
    // Off the steady-state path: alerts are rare, so building the record here is fine.
    const rec: AlertRecord = { id: this.idOf(ev.seq), device: this.devices.get(d).id, kind: KIND_NAMES[ev.kind], hw_time: ev.hwTime, acknowledged_by: null, acknowledged_at: null }
    this.lastAlert[d] = rec
    this.open.set(rec.id, rec)
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value as string)
    this.gatewayDirty = true
  }

  /** The station acknowledged `id` (already removed from the outbox by the caller). */
  recordAck(id: string, by: string, at: number): void {
    const rec = this.open.get(id)
    this.open.delete(id)
    const done: AlertRecord = rec ? { ...rec, acknowledged_by: by, acknowledged_at: at } : { id, device: '', kind: '', hw_time: 0, acknowledged_by: by, acknowledged_at: at }
    this.recentAcks.push(done)
    if (this.recentAcks.length > MAX_ACKS) this.recentAcks.shift()
    for (let d = 0; d < this.lastAlert.length; d++) {
      const la = this.lastAlert[d]
      if (la && la.id === id) {
        la.acknowledged_by = by
        la.acknowledged_at = at
        this.dirty[d] = 1
      }
    }
    this.gatewayDirty = true
  }

  /** The newest acknowledgement (the gateway state's last_ack). */
  get lastAck(): { id: string; by: string | null; at: number | null } | null {
    const a = this.recentAcks[this.recentAcks.length - 1]
    return a ? { id: a.id, by: a.acknowledged_by, at: a.acknowledged_at } : null
  }

  /** The lamp box's pattern now, read from the driver (its hold timers return it to normal by themselves). */
  get lampPattern(): string {
    return this.lampSource?.() ?? 'normal'
  }

  /** The lamp box was given a new pattern: its device state is republished on the next flush. */
  lampChanged(): void {
    for (const e of this.devices.entries) if (e.kind === 'lamp-box') this.dirty[e.index] = 1
  }

  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    if (device < 0 || device >= this.status.length) return
    this.status[device] = status
    this.statusReason[device] = reason
    this.dirty[device] = 1
    // Device 0 is the gateway itself (the BLE scanner reports its link there): shown in the
    // gateway state, so a scanner fault is published at once (issue 11 §7).
    if (device === 0) this.gatewayDirty = true
  }

  count(device: number, counter: string, by: number): void {
    if (device < 0 || device >= this.counters.length) return
    const m = this.counters[device]
    m.set(counter, (m.get(counter) ?? 0) + by)
    this.dirty[device] = 1
  }

  activeFaults(d: number): string[] {
    const out: string[] = []
    for (let k = 0; k < 32; k++) if (this.faults[d] & (1 << k)) out.push(KIND_NAMES[k])
    return out
  }

  /** The retained device-state payload (device-state.schema.json). */
  deviceState(d: number): object {
    const e = this.devices.get(d)
    const num = (x: number): number | null => (Number.isFinite(x) ? x : null)
    // A `missing` fault (supervision, issue 6) overrides the driver's link status until restored.
    const missing = (this.faults[d] & (1 << Kind.MISSING)) !== 0
    return {
      v: 1,
      device: e.id,
      device_kind: e.kind,
      label: e.label,
      location: e.location,
      status: missing ? 'missing' : this.status[d],
      status_reason: missing ? 'no heartbeat within the supervision interval' : this.statusReason[d],
      last_seen: num(this.lastSeen[d]),
      battery: num(this.battery[d]),
      rssi: Number.isFinite(this.rssi[d]) ? Math.round(this.rssi[d]) : null,
      faults: this.activeFaults(d),
      counters: Object.fromEntries(this.counters[d]),
      last_alert: this.lastAlert[d],
      ...(e.kind === 'lamp-box' ? { lamp_pattern: this.lampPattern } : {}),
    }
  }
}
