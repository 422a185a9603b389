/**
 * The device table, interned once at start from the validated config
 * (DESIGN §4): every device gets a small integer index; everything the hot
 * path needs per device (topics, windows, kind) is looked up by that index.
 * Index 0 is always the gateway itself (its own trouble and test reports).
 */
import type { DeviceKindName } from '../../devices/device-driver.js'

export interface DeviceEntry {
  readonly index: number
  readonly id: string
  readonly kind: DeviceKindName | 'gateway'
  readonly label: string
  readonly location: string
  /** Keyed dedupe window (packet id / counter), ms. */
  readonly keyedDedupeMs: number
  /** Unkeyed dedupe window (same kind repeating), ms. */
  readonly unkeyedDedupeMs: number
  /** Expected heartbeat interval for supervision, ms; 0 = not supervised. */
  readonly supervisionMs: number
}

export const GATEWAY_DEVICE = 0

export interface DeviceSpec {
  id: string
  kind: DeviceKindName
  label: string
  location: string
  supervision_s?: number
  dedupe_window_ms?: number
}

export class DeviceTable {
  readonly entries: readonly DeviceEntry[]
  private readonly byId: ReadonlyMap<string, number>
  readonly keyedDedupeMs: Float64Array
  readonly unkeyedDedupeMs: Float64Array

  constructor(devices: readonly DeviceSpec[], defaults: { keyedDedupeMs: number; unkeyedDedupeMs: number }) {
    const entries: DeviceEntry[] = [
      { index: 0, id: 'gateway', kind: 'gateway', label: 'Gateway', location: '', keyedDedupeMs: 0, unkeyedDedupeMs: 0, supervisionMs: 0 },
    ]
    const byId = new Map<string, number>([['gateway', 0]])
    for (const d of devices) {
      if (byId.has(d.id)) throw new Error(`device id "${d.id}" is used twice`)
      const index = entries.length
      entries.push({
        index,
        id: d.id,
        kind: d.kind,
        label: d.label,
        location: d.location,
        keyedDedupeMs: d.dedupe_window_ms ?? defaults.keyedDedupeMs,
        unkeyedDedupeMs: defaults.unkeyedDedupeMs,
        // The lamp box supervises its own polls (devices/lamp-box/lamp-supervisor.ts raises MISSING itself).
        supervisionMs: d.kind === 'lamp-box' ? 0 : (d.supervision_s ?? 0) * 1000,
      })
      byId.set(d.id, index)
    }
    if (entries.length > 0xffff) throw new Error(`too many devices (${entries.length}); at most 65535`)
    this.entries = entries
    this.byId = byId
    this.keyedDedupeMs = Float64Array.from(entries, (e) => e.keyedDedupeMs)
    this.unkeyedDedupeMs = Float64Array.from(entries, (e) => e.unkeyedDedupeMs)
  }

  get size(): number {
    return this.entries.length
  }

  indexOf(id: string): number {
    return this.byId.get(id) ?? -1
  }

  get(index: number): DeviceEntry {
    return this.entries[index]
  }
}
