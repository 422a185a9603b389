/**
 * One received BLE advertisement as the transport (BlueZ over D-Bus, or the
 * simulated twin) hands it to the whistle logic. The transport reuses one
 * RawAdvert object per delivery: a handler must copy what it keeps.
 *
 * Boundary: the transport (hw-bluez.ts / sim) knows D-Bus and adapters;
 * AdvertHandler (whistle-receiver.ts) knows BTHome/iBeacon/Eddystone, keys,
 * replay counters, dedupe and alert mapping. Neither reaches into the other.
 */
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
  serviceData: ReadonlyMap<string, Buffer> | null
  /** Manufacturer data by company id (0x004C Apple = iBeacon). Null when none. */
  manufacturerData: ReadonlyMap<number, Buffer> | null
  /** True when the device was already in BlueZ's cache at start (never an alert). */
  cached: boolean
}

export interface AdvertHandler {
  onAdvert(advert: RawAdvert): void
}

export const BTHOME_UUID = '0000fcd2-0000-1000-8000-00805f9b34fb'
export const EDDYSTONE_UUID = '0000feaa-0000-1000-8000-00805f9b34fb'
export const APPLE_COMPANY_ID = 0x004c
