/**
 * One received BLE advertisement as the transport (BlueZ over D-Bus, or the
 * simulated twin) hands it to the whistle logic. The transport reuses one
 * RawAdvert object per delivery: a handler must copy what it keeps.
 *
 * Boundary: the transport (hw-bluez.ts / sim) knows D-Bus and adapters;
 * AdvertHandler (whistle-receiver.ts) knows BTHome/iBeacon/Eddystone, keys,
 * replay counters, dedupe and alert mapping. Neither reaches into the other.
 */
/** Read-only view of an advert's service or manufacturer data: a Map satisfies it; the
 *  BlueZ transport hands a reused FieldSlots (bluez-variants.ts) that refills without allocating. */
export interface AdvertFields<K> {
  get(key: K): Buffer | undefined
  has(key: K): boolean
  readonly size: number
  /** For copying (tests, tools): not on the hot path (it allocates an iterator). */
  [Symbol.iterator](): Iterator<[K, Buffer]>
}

export interface RawAdvert {
  /** Device MAC, upper-case "AA:BB:CC:DD:EE:FF". */
  address: string
  /** dBm; NaN when BlueZ gave none. */
  rssi: number
  /** Wall ms when the transport received it. */
  time: number
  /** Service data by 128-bit UUID string, lower case, as BlueZ reports it
   *  (16-bit UUIDs expanded, e.g. BTHome 0xFCD2 = "0000fcd2-0000-1000-8000-00805f9b34fb").
   *  Null when the advertisement carried none. */
  serviceData: AdvertFields<string> | null
  /** Manufacturer data by company id (0x004C Apple = iBeacon). Null when none. */
  manufacturerData: AdvertFields<number> | null
  /** True when the device was already in BlueZ's cache at start (never an alert). */
  cached: boolean
}

export interface AdvertHandler {
  onAdvert(advert: RawAdvert): void
}

export const BTHOME_UUID = '0000fcd2-0000-1000-8000-00805f9b34fb'
export const EDDYSTONE_UUID = '0000feaa-0000-1000-8000-00805f9b34fb'
export const APPLE_COMPANY_ID = 0x004c
