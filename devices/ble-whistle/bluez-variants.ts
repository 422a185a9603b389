/**
 * Reading BlueZ property values as dbus-next unmarshals them, without
 * importing dbus-next (structural types only) and without allocating on the
 * advertisement path: a{sv}/a{qv} arrive as plain objects of {signature, value}
 * variants; we copy their Buffers into caller-owned, reused FieldSlots.
 *
 * BlueZ org.bluez.Device1 (doc/org.bluez.Device.rst):
 *   Address s, RSSI n, ServiceData a{sv} (uuid -> ay), ManufacturerData a{qv} (company id -> ay).
 * Anything of the wrong shape is skipped, never thrown on: bluetoothd is not
 * ours, and a test peer may send garbage.
 */

/** What dbus-next hands us for a `v`. */
export interface VariantLike {
  signature: string
  value: unknown
}

function isVariant(v: unknown): v is VariantLike {
  return typeof v === 'object' && v !== null && 'value' in v
}

/** The value inside a variant, or undefined when `v` is not one. */
export function unwrapVariant(v: unknown): unknown {
  return isVariant(v) ? v.value : undefined
}

/** Value of a variant property in a props dict, or undefined. */
export function variantValue(props: Record<string, unknown>, name: string): unknown {
  return unwrapVariant(props[name])
}

/** More entries than an advertisement can carry (31 bytes of AD data); the rest of a garbage dict is ignored. */
export const MAX_FIELDS = 16

/**
 * Key -> Buffer slots refilled in place for every advert (issue 13 §2): a
 * Map's clear() drops its hash table and the next set() allocates a new one
 * (~150 bytes per advert: 6 full GCs per 1M adverts). An advert carries one
 * or two entries, so get() is a short linear scan. Stale Buffer references
 * beyond `size` are dropped on reset so nothing is kept alive.
 */
export class FieldSlots<K extends string | number> {
  private readonly keys: K[] = []
  private readonly values: (Buffer | undefined)[] = []
  size = 0

  get(key: K): Buffer | undefined {
    for (let i = 0; i < this.size; i++) if (this.keys[i] === key) return this.values[i]
    return undefined
  }

  has(key: K): boolean {
    return this.get(key) !== undefined
  }

  *[Symbol.iterator](): Iterator<[K, Buffer]> {
    for (let i = 0; i < this.size; i++) yield [this.keys[i], this.values[i] as Buffer]
  }

  reset(): void {
    for (let i = 0; i < this.size; i++) this.values[i] = undefined
    this.size = 0
  }

  add(key: K, value: Buffer): void {
    if (this.size >= MAX_FIELDS) return
    const i = this.size++
    if (i < this.keys.length) {
      this.keys[i] = key
      this.values[i] = value
    } else {
      this.keys.push(key)
      this.values.push(value)
    }
  }
}

/**
 * Copy ServiceData (a{sv}, uuid -> Variant('ay', Buffer)) into `target`.
 * Returns the number of entries copied (0 = carry null in the advert).
 */
export function fillServiceData(target: FieldSlots<string>, dict: unknown): number {
  target.reset()
  if (typeof dict !== 'object' || dict === null) return 0
  const obj = dict as Record<string, unknown>
  for (const uuid in obj) {
    const v = obj[uuid]
    if (isVariant(v) && Buffer.isBuffer(v.value)) target.add(uuid, v.value)
  }
  return target.size
}

/** Copy ManufacturerData (a{qv}, company id -> Variant('ay', Buffer)) into `target`. */
export function fillManufacturerData(target: FieldSlots<number>, dict: unknown): number {
  target.reset()
  if (typeof dict !== 'object' || dict === null) return 0
  const obj = dict as Record<string, unknown>
  for (const key in obj) {
    const v = obj[key]
    // Object keys are strings; `+key` is a number without allocating.
    const company = +key
    if (company >= 0 && company <= 0xffff && isVariant(v) && Buffer.isBuffer(v.value)) target.add(company, v.value)
  }
  return target.size
}

/** RSSI (n) from a variant, NaN when absent or not a number. */
export function rssiFromVariant(v: unknown): number {
  return isVariant(v) && typeof v.value === 'number' ? v.value : NaN
}

/**
 * "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF" -> "AA:BB:CC:DD:EE:FF", or null when
 * the path is not a device object directly under an adapter. Called once per
 * new device object (not per advertisement).
 */
export function addressFromDevicePath(path: string): string | null {
  const i = path.lastIndexOf('/dev_')
  if (i < 0) return null
  const tail = path.slice(i + 5)
  if (!/^[0-9A-Fa-f]{2}(_[0-9A-Fa-f]{2}){5}$/.test(tail)) return null
  return tail.replaceAll('_', ':').toUpperCase()
}

/** D-Bus object path of an adapter by name ("hci0" -> "/org/bluez/hci0"). */
export function adapterPath(adapter: string): string {
  return '/org/bluez/' + adapter
}
