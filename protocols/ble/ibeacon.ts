/**
 * iBeacon decoder (Apple "Proximity Beacon Specification"; manufacturer
 * specific data, company id 0x004C). BlueZ reports ManufacturerData keyed by
 * company id with the id already removed, so the input starts at the beacon
 * type: [0x02][0x15][UUID 16][major u16 BE][minor u16 BE][measured power i8].
 * Pure, never throws, allocation-free (fills a caller-owned IBeaconReading).
 */
import { ERR, MAX_AD_PAYLOAD, OK, type BleDecodeResult } from './decode-result.js'

const IBEACON_TYPE = 0x02
const IBEACON_LENGTH = 0x15 // 21 bytes follow: uuid 16 + major 2 + minor 2 + power 1
export const IBEACON_FRAME_BYTES = 2 + IBEACON_LENGTH

export class IBeaconReading {
  readonly uuid = new Uint8Array(16)
  major = 0
  minor = 0
  /** Calibrated RSSI at 1 m, dBm (signed). */
  measuredPower = 0
  /** Bytes after the 23-byte frame (some tags append a battery byte); ignored. */
  trailing = 0
}

export function decodeIBeacon(data: Uint8Array, out: IBeaconReading): BleDecodeResult {
  const len = data.length
  if (len === 0) return ERR.empty
  if (len > MAX_AD_PAYLOAD) return ERR.oversized
  if (len < 2) return ERR.truncated
  // Other Apple frames (0x10 Nearby, 0x12 Find My, ...) share company id 0x004C.
  if (data[0] !== IBEACON_TYPE) return ERR.not_ibeacon
  if (data[1] !== IBEACON_LENGTH) return ERR.bad_length
  if (len < IBEACON_FRAME_BYTES) return ERR.truncated
  for (let i = 0; i < 16; i++) out.uuid[i] = data[2 + i]
  out.major = (data[18] << 8) | data[19]
  out.minor = (data[20] << 8) | data[21]
  const p = data[22]
  out.measuredPower = p > 127 ? p - 256 : p
  out.trailing = len - IBEACON_FRAME_BYTES
  return OK
}

/** Parses "e2c56db5-dffb-48d2-b060-d0f5a71096e0" (dashes optional) into 16 bytes; null when malformed. Config-time only. */
export function parseUuid(text: string): Uint8Array | null {
  const hex = text.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}
