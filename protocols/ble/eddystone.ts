/**
 * Eddystone decoder (github.com/google/eddystone, protocol-specification.md,
 * eddystone-uid/README.md, eddystone-tlm/tlm-plain.md). Service data for UUID
 * 0xFEAA as BlueZ reports it (UUID bytes removed): [frame type][frame...].
 * All multi-byte values are big-endian. Pure, never throws, allocation-free.
 */
import { ERR, MAX_AD_PAYLOAD, OK, type BleDecodeResult } from './decode-result.js'

export const EddystoneFrame = {
  UID: 0x00,
  URL: 0x10,
  TLM: 0x20,
  EID: 0x30,
} as const

/** TLM version byte: 0x00 plain; 0x01 encrypted (eTLM, needs the EID key: recognised and ignored). */
const TLM_PLAIN = 0x00
const TLM_ENCRYPTED = 0x01

export class EddystoneReading {
  /** EddystoneFrame value of the last decode. */
  frame = -1
  // UID (frame 0x00)
  /** Calibrated Tx power at 0 m, dBm. */
  txPower = 0
  readonly namespace = new Uint8Array(10)
  readonly instance = new Uint8Array(6)
  // TLM (frame 0x20)
  /** True for an encrypted TLM (eTLM): the fields below are not filled. */
  tlmEncrypted = false
  /** Battery mV; 0 = not supported by the beacon (spec: "the value should be zeroed"). */
  batteryMv = 0
  /** °C from signed 8.8 fixed point; NaN when the beacon sent 0x8000 ("not supported"). */
  temperature = NaN
  /** Advertising PDUs since power-up or reboot. */
  advCount = 0
  /** Time since power-up or reboot, in 0.1 s units. */
  secCount = 0
}

function u32be(d: Uint8Array, o: number): number {
  return d[o] * 0x1000000 + ((d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3])
}

export function decodeEddystone(data: Uint8Array, out: EddystoneReading): BleDecodeResult {
  const len = data.length
  out.frame = -1
  if (len === 0) return ERR.empty
  if (len > MAX_AD_PAYLOAD) return ERR.oversized
  const frame = data[0]
  switch (frame) {
    case EddystoneFrame.UID: {
      // eddystone-uid: 20 bytes; "implementations that truncate the frame to omit the RFU bytes" send 18.
      if (len < 18) return ERR.truncated
      if (len !== 18 && len !== 20) return ERR.bad_length
      const p = data[1]
      out.txPower = p > 127 ? p - 256 : p
      for (let i = 0; i < 10; i++) out.namespace[i] = data[2 + i]
      for (let i = 0; i < 6; i++) out.instance[i] = data[12 + i]
      break
    }
    case EddystoneFrame.TLM: {
      if (len < 2) return ERR.truncated
      if (data[1] === TLM_ENCRYPTED) {
        // eTLM: 18 bytes (version + 12 encrypted + salt 2 + MIC 2); contents need the EID identity key.
        out.tlmEncrypted = true
        break
      }
      if (data[1] !== TLM_PLAIN) return ERR.unknown_frame
      // tlm-plain.md: "The length of this frame is fixed" = 14 bytes.
      if (len < 14) return ERR.truncated
      if (len !== 14) return ERR.bad_length
      out.tlmEncrypted = false
      out.batteryMv = (data[2] << 8) | data[3]
      const t = (data[4] << 8) | data[5]
      out.temperature = t === 0x8000 ? NaN : (t > 0x7fff ? t - 0x10000 : t) / 256
      out.advCount = u32be(data, 6)
      out.secCount = u32be(data, 10)
      break
    }
    case EddystoneFrame.URL:
    case EddystoneFrame.EID:
      // Recognised and ignored: they identify a beacon but carry nothing the gateway uses.
      if (len < 2) return ERR.truncated
      break
    default:
      return ERR.unknown_frame
  }
  out.frame = frame
  return OK
}
