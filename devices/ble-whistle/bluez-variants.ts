/**
 * Reading BlueZ property values as dbus-next unmarshals them, without
 * importing dbus-next (structural types only) and without allocating on the
 * advertisement path: a{sv}/a{qv} arrive as plain objects of {signature, value}
 * variants; we copy their Buffers into caller-owned, reused Maps.
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

/**
 * Copy ServiceData (a{sv}, uuid -> Variant('ay', Buffer)) into `target`.
 * Returns the number of entries copied (0 = carry null in the advert).
 */
export function fillServiceData(target: Map<string, Buffer>, dict: unknown): number {
  target.clear()
  if (typeof dict !== 'object' || dict === null) return 0
  const obj = dict as Record<string, unknown>
  for (const uuid in obj) {
    const v = obj[uuid]
    if (isVariant(v) && Buffer.isBuffer(v.value)) target.set(uuid, v.value)
  }
  return target.size
}

/** Copy ManufacturerData (a{qv}, company id -> Variant('ay', Buffer)) into `target`. */
export function fillManufacturerData(target: Map<number, Buffer>, dict: unknown): number {
  target.clear()
  if (typeof dict !== 'object' || dict === null) return 0
  const obj = dict as Record<string, unknown>
  for (const key in obj) {
    const v = obj[key]
    // Object keys are strings; `+key` is a number without allocating.
    const company = +key
    if (company >= 0 && company <= 0xffff && isVariant(v) && Buffer.isBuffer(v.value)) target.set(company, v.value)
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
