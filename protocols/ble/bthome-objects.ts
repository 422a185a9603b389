/**
 * The BTHome v2 object-id table (https://bthome.io/format, "Sensor data",
 * "Binary Sensor data", "Events", "Device information", "Misc data"; cross-
 * checked against the reference receiver's table, Bluetooth-Devices/bthome-ble
 * `const.py`). BTHome v2 objects carry no length byte: the length of each
 * value is implied by its object id, so a parser that meets an id it does not
 * know cannot find the next object. That is why the WHOLE table is here, even
 * though the gateway only uses a handful of ids.
 *
 * Lengths live in a 256-entry Uint8Array so the hot path is one indexed read.
 * 0 = not defined by the spec; VARIABLE = text/raw (next byte is the length).
 */

/** Length marker for variable-length objects (0x53 text, 0x54 raw): 1 length byte follows the id. */
export const VARIABLE = 0xff

/** Object ids the gateway acts on. */
export const OBJ = {
  PACKET_ID: 0x00,
  BATTERY: 0x01,
  BATTERY_LOW: 0x15,
  TAMPER: 0x2b,
  BUTTON: 0x3a,
  DIMMER: 0x3c,
  TEXT: 0x53,
  RAW: 0x54,
  DEVICE_TYPE_ID: 0xf0,
} as const

/** Button event ids (bthome.io/format "Events", object 0x3A). */
export const BUTTON_EVENT = {
  NONE: 0x00,
  PRESS: 0x01,
  DOUBLE_PRESS: 0x02,
  TRIPLE_PRESS: 0x03,
  LONG_PRESS: 0x04,
  LONG_DOUBLE_PRESS: 0x05,
  LONG_TRIPLE_PRESS: 0x06,
  /** bthome.io: "hold_press". */
  HOLD_PRESS: 0x80,
  /** Shelly BLU Button1 docs (docs-ble/Devices/button): "button hold" 0xFE, used by its firmware before 0x80 was specified. */
  HOLD_SHELLY: 0xfe,
} as const

export interface BTHomeObjectDef {
  readonly id: number
  readonly name: string
  /** Value length in bytes, or VARIABLE. */
  readonly length: number
  readonly signed: boolean
  readonly factor: number
  readonly unit: string
}

// [id, name, length, signed, factor, unit]. Factors as printed on bthome.io/format.
type Row = readonly [number, string, number, boolean, number, string]
const ROWS: readonly Row[] = [
  [0x00, 'packet_id', 1, false, 1, ''],
  [0x01, 'battery', 1, false, 1, '%'],
  [0x02, 'temperature', 2, true, 0.01, '°C'],
  [0x03, 'humidity', 2, false, 0.01, '%'],
  [0x04, 'pressure', 3, false, 0.01, 'hPa'],
  [0x05, 'illuminance', 3, false, 0.01, 'lux'],
  [0x06, 'mass_kg', 2, false, 0.01, 'kg'],
  [0x07, 'mass_lb', 2, false, 0.01, 'lb'],
  [0x08, 'dewpoint', 2, true, 0.01, '°C'],
  [0x09, 'count', 1, false, 1, ''],
  [0x0a, 'energy', 3, false, 0.001, 'kWh'],
  [0x0b, 'power', 3, false, 0.01, 'W'],
  [0x0c, 'voltage', 2, false, 0.001, 'V'],
  [0x0d, 'pm2_5', 2, false, 1, 'ug/m3'],
  [0x0e, 'pm10', 2, false, 1, 'ug/m3'],
  // Binary sensors: always uint8, 0 = off / 1 = on.
  [0x0f, 'generic_boolean', 1, false, 1, ''],
  [0x10, 'power_on', 1, false, 1, ''],
  [0x11, 'opening', 1, false, 1, ''],
  [0x12, 'co2', 2, false, 1, 'ppm'],
  [0x13, 'tvoc', 2, false, 1, 'ug/m3'],
  [0x14, 'moisture', 2, false, 0.01, '%'],
  [0x15, 'battery_low', 1, false, 1, ''],
  [0x16, 'battery_charging', 1, false, 1, ''],
  [0x17, 'carbon_monoxide', 1, false, 1, ''],
  [0x18, 'cold', 1, false, 1, ''],
  [0x19, 'connectivity', 1, false, 1, ''],
  [0x1a, 'door', 1, false, 1, ''],
  [0x1b, 'garage_door', 1, false, 1, ''],
  [0x1c, 'gas_detected', 1, false, 1, ''],
  [0x1d, 'heat', 1, false, 1, ''],
  [0x1e, 'light', 1, false, 1, ''],
  [0x1f, 'lock', 1, false, 1, ''],
  [0x20, 'moisture_wet', 1, false, 1, ''],
  [0x21, 'motion', 1, false, 1, ''],
  [0x22, 'moving', 1, false, 1, ''],
  [0x23, 'occupancy', 1, false, 1, ''],
  [0x24, 'plug', 1, false, 1, ''],
  [0x25, 'presence', 1, false, 1, ''],
  [0x26, 'problem', 1, false, 1, ''],
  [0x27, 'running', 1, false, 1, ''],
  [0x28, 'safety', 1, false, 1, ''],
  [0x29, 'smoke', 1, false, 1, ''],
  [0x2a, 'sound', 1, false, 1, ''],
  [0x2b, 'tamper', 1, false, 1, ''],
  [0x2c, 'vibration', 1, false, 1, ''],
  [0x2d, 'window', 1, false, 1, ''],
  [0x2e, 'humidity', 1, false, 1, '%'],
  [0x2f, 'moisture', 1, false, 1, '%'],
  // Events: button = 1 byte event id; dimmer = event id + steps.
  [0x3a, 'button', 1, false, 1, ''],
  [0x3c, 'dimmer', 2, false, 1, ''],
  [0x3d, 'count', 2, false, 1, ''],
  [0x3e, 'count', 4, false, 1, ''],
  [0x3f, 'rotation', 2, true, 0.1, '°'],
  [0x40, 'distance_mm', 2, false, 1, 'mm'],
  [0x41, 'distance_m', 2, false, 0.1, 'm'],
  [0x42, 'duration', 3, false, 0.001, 's'],
  [0x43, 'current', 2, false, 0.001, 'A'],
  [0x44, 'speed', 2, false, 0.01, 'm/s'],
  [0x45, 'temperature', 2, true, 0.1, '°C'],
  [0x46, 'uv_index', 1, false, 0.1, ''],
  [0x47, 'volume', 2, false, 0.1, 'L'],
  [0x48, 'volume_ml', 2, false, 1, 'mL'],
  [0x49, 'volume_flow_rate', 2, false, 0.001, 'm3/hr'],
  [0x4a, 'voltage', 2, false, 0.1, 'V'],
  [0x4b, 'gas', 3, false, 0.001, 'm3'],
  [0x4c, 'gas', 4, false, 0.001, 'm3'],
  [0x4d, 'energy', 4, false, 0.001, 'kWh'],
  [0x4e, 'volume', 4, false, 0.001, 'L'],
  [0x4f, 'water', 4, false, 0.001, 'L'],
  [0x50, 'timestamp', 4, false, 1, 's'],
  [0x51, 'acceleration', 2, false, 0.001, 'm/s²'],
  [0x52, 'gyroscope', 2, false, 0.001, '°/s'],
  [0x53, 'text', VARIABLE, false, 1, ''],
  [0x54, 'raw', VARIABLE, false, 1, ''],
  [0x55, 'volume_storage', 4, false, 0.001, 'L'],
  [0x56, 'conductivity', 2, false, 1, 'µS/cm'],
  [0x57, 'temperature', 1, true, 1, '°C'],
  [0x58, 'temperature', 1, true, 0.35, '°C'],
  [0x59, 'count', 1, true, 1, ''],
  [0x5a, 'count', 2, true, 1, ''],
  [0x5b, 'count', 4, true, 1, ''],
  [0x5c, 'power', 4, true, 0.01, 'W'],
  [0x5d, 'current', 2, true, 0.001, 'A'],
  [0x5e, 'direction', 2, false, 0.01, '°'],
  // bthome.io prints factor 1 (example 5FA00F = 4000 mm); bthome-ble uses 0.1. Length (2) is what parsing needs.
  [0x5f, 'precipitation', 2, false, 1, 'mm'],
  [0x60, 'channel', 1, false, 1, ''],
  [0x61, 'rotational_speed', 2, false, 1, 'rpm'],
  [0x62, 'speed', 4, true, 0.000001, 'm/s'],
  [0x63, 'acceleration', 4, true, 0.000001, 'm/s²'],
  [0x64, 'light_level', 1, false, 1, ''],
  // Device information.
  [0xf0, 'device_type_id', 2, false, 1, ''],
  [0xf1, 'firmware_version', 4, false, 1, ''],
  [0xf2, 'firmware_version', 3, false, 1, ''],
]

/** Value length by object id; 0 = unknown id. */
export const OBJECT_LENGTH = new Uint8Array(256)
/** Object definitions by id (undefined = unknown). */
export const OBJECT_DEFS: readonly (BTHomeObjectDef | undefined)[] = (() => {
  const defs: (BTHomeObjectDef | undefined)[] = new Array(256).fill(undefined)
  for (const [id, name, length, signed, factor, unit] of ROWS) {
    OBJECT_LENGTH[id] = length
    defs[id] = Object.freeze({ id, name, length, signed, factor, unit })
  }
  return Object.freeze(defs)
})()

/**
 * Scaled numeric value of a fixed-length object whose value starts at `off`
 * (little-endian, bthome.io "Bluetooth payload data typically uses
 * little-endian"). NaN for unknown or variable-length ids or when the value
 * would run past the end. Not used on the hot path (button/battery are read
 * directly); for pairing displays and tests.
 */
export function objectValue(buf: Uint8Array, off: number, id: number): number {
  const def = OBJECT_DEFS[id & 0xff]
  if (def === undefined || def.length === VARIABLE || off < 0 || off + def.length > buf.length) return NaN
  let v = 0
  for (let i = def.length - 1; i >= 0; i--) v = v * 256 + buf[off + i]
  if (def.signed) {
    const half = 2 ** (8 * def.length - 1)
    if (v >= half) v -= 2 * half
  }
  // Round away binary noise of the factor multiply (0.01 * 2506 = 25.060000000000002).
  return def.factor === 1 ? v : Math.round(v * def.factor * 1e6) / 1e6
}
