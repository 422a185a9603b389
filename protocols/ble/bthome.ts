/**
 * BTHome v2 service-data decoder (https://bthome.io/format,
 * https://bthome.io/encryption). Pure: no I/O, never throws, and on the
 * plaintext path allocation-free (it fills a caller-owned BTHomeReading and
 * returns a frozen result singleton, see decode-result.ts).
 *
 * Input is the service data for UUID 0xFCD2 as BlueZ reports it, i.e. WITHOUT
 * the UUID bytes: [device info][objects...] or, encrypted,
 * [device info][ciphertext][counter u32 LE][MIC 4].
 *
 * The encrypted path uses node:crypto AES-128-CCM, which allocates a Decipher
 * and the plaintext Buffer per packet: unavoidable with node:crypto, and fine
 * because encrypted devices are few and their adverts rare; the benchmark
 * measures it separately.
 */
import { createDecipheriv, type KeyObject } from 'node:crypto'
import { BUTTON_EVENT, OBJ, OBJECT_LENGTH, VARIABLE } from './bthome-objects.js'
import { ERR, MAX_AD_PAYLOAD, OK, type BleDecodeResult } from './decode-result.js'

/** Button events kept per packet (Shelly BLU Wall Switch 4 sends 4; more is suspicious). */
export const MAX_BUTTONS = 8

/** Device info byte (bthome.io/format "BTHome Device Information"). */
const DI_ENCRYPTED = 0x01 // bit 0
const DI_TRIGGER_BASED = 0x04 // bit 2
const DI_VERSION_SHIFT = 5 // bits 5-7

/** Encrypted layout: [info][ciphertext >= 2: one object id + 1 byte][counter 4][MIC 4]. */
const COUNTER_AND_MIC = 8
const MIN_CIPHERTEXT = 2

/** Caller-owned decode target; reuse one per receiver. Fields are reset by every decode. */
export class BTHomeReading {
  deviceInfo = 0
  encrypted = false
  /** bit 2: device only advertises on a trigger (button), not at a regular interval. */
  triggerBased = false
  version = 0
  /** AES-CCM counter (u32); -1 when the packet is plaintext. */
  counter = -1
  /** Object 0x00 (0-255); -1 when absent. */
  packetId = -1
  /** Object 0x01 in %; -1 when absent. */
  battery = -1
  /** Object 0x15 (1 = low); -1 when absent. */
  batteryLow = -1
  /** Object 0x2B (1 = tampered); -1 when absent. */
  tamper = -1
  /** Object 0xF0; -1 when absent. */
  deviceTypeId = -1
  /** Number of 0x3A button objects (including 0x00 "none" placeholders). */
  buttonCount = 0
  /** Button event ids in packet order; buttons[i] is the event of button i+1. */
  readonly buttons = new Uint8Array(MAX_BUTTONS)
  objectCount = 0
  /** The id that stopped the parse with `unknown_object`; -1 otherwise. */
  unknownObjectId = -1

  reset(): void {
    this.deviceInfo = 0
    this.encrypted = false
    this.triggerBased = false
    this.version = 0
    this.counter = -1
    this.packetId = -1
    this.battery = -1
    this.batteryLow = -1
    this.tamper = -1
    this.deviceTypeId = -1
    this.buttonCount = 0
    this.objectCount = 0
    this.unknownObjectId = -1
  }

  /** True when at least one button object carries a real event (not 0x00 "none"). */
  hasButtonEvent(): boolean {
    for (let i = 0; i < this.buttonCount; i++) if (this.buttons[i] !== BUTTON_EVENT.NONE) return true
    return false
  }
}

/**
 * Reads the device-info byte and, for encrypted packets, the counter, without
 * decrypting. Lets a receiver reject replays before spending an AES operation.
 */
export function readBTHomeHeader(data: Uint8Array, out: BTHomeReading): BleDecodeResult {
  out.reset()
  const len = data.length
  if (len === 0) return ERR.empty
  if (len > MAX_AD_PAYLOAD) return ERR.oversized
  const info = data[0]
  out.deviceInfo = info
  out.version = info >>> DI_VERSION_SHIFT
  out.encrypted = (info & DI_ENCRYPTED) !== 0
  out.triggerBased = (info & DI_TRIGGER_BASED) !== 0
  // bthome.io: "Currently only BTHome version 1 or 2 are allowed"; v1 uses other UUIDs (0x181C/0x181E).
  if (out.version !== 2) return ERR.bad_version
  if (out.encrypted) {
    if (len < 1 + MIN_CIPHERTEXT + COUNTER_AND_MIC) return ERR.truncated
    const c = len - COUNTER_AND_MIC
    out.counter = (data[c] | (data[c + 1] << 8) | (data[c + 2] << 16)) + data[c + 3] * 0x1000000
  }
  return OK
}

// Scratch for the nonce; one decode runs at a time (single-threaded), so sharing is safe.
const nonce = Buffer.alloc(13)

/**
 * Full decode. `key` (16 bytes, or a KeyObject made once from them) and `mac`
 * (6 bytes, display order) are needed only for encrypted packets.
 */
export function decodeBTHome(
  data: Uint8Array,
  out: BTHomeReading,
  key: KeyObject | Uint8Array | null,
  mac: Uint8Array | null,
): BleDecodeResult {
  const head = readBTHomeHeader(data, out)
  if (!head.ok) return head
  if (!out.encrypted) return parseObjects(data, 1, data.length, out)
  if (key === null) return ERR.no_key
  if (mac === null || mac.length !== 6) return ERR.bad_key
  if ((key instanceof Uint8Array ? key.length : key.symmetricKeySize) !== 16) return ERR.bad_key
  const plain = decrypt(data, key, mac)
  if (plain === null) return ERR.bad_mic
  return parseObjects(plain, 0, plain.length, out)
}

function decrypt(data: Uint8Array, key: KeyObject | Uint8Array, mac: Uint8Array): Buffer | null {
  const len = data.length
  const c = len - COUNTER_AND_MIC
  // Nonce (bthome.io/encryption): MAC(6) + UUID 0xFCD2 as LE bytes "d2fc" + device info + counter(4, as sent).
  nonce.set(mac, 0)
  nonce[6] = 0xd2
  nonce[7] = 0xfc
  nonce[8] = data[0]
  nonce[9] = data[c]
  nonce[10] = data[c + 1]
  nonce[11] = data[c + 2]
  nonce[12] = data[c + 3]
  try {
    const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 })
    d.setAuthTag(data.subarray(len - 4))
    // v2 uses no associated data (bthome.io/encryption: the v1 0x11 header "is not used anymore").
    const plain = d.update(data.subarray(1, c))
    d.final() // throws when the MIC does not match
    return plain
  } catch {
    return null
  }
}

/** Walks objects in buf[start, end). Every length is checked before it is trusted. */
function parseObjects(buf: Uint8Array, start: number, end: number, out: BTHomeReading): BleDecodeResult {
  let off = start
  while (off < end) {
    const id = buf[off]
    let len = OBJECT_LENGTH[id]
    if (len === 0) {
      // bthome.io/format: a receiver stops at an id it does not support. Lengths are implicit, so
      // nothing after it can be trusted; issue 4 "Bad input": unknown object ids are dropped and counted.
      out.unknownObjectId = id
      return ERR.unknown_object
    }
    let v = off + 1
    if (len === VARIABLE) {
      if (v >= end) return ERR.truncated
      len = buf[v]
      v++
    }
    if (v + len > end) return ERR.truncated
    switch (id) {
      case OBJ.PACKET_ID:
        if (out.packetId < 0) out.packetId = buf[v]
        break
      case OBJ.BATTERY:
        out.battery = buf[v]
        break
      case OBJ.BATTERY_LOW:
        out.batteryLow = buf[v]
        break
      case OBJ.TAMPER:
        out.tamper = buf[v]
        break
      case OBJ.BUTTON:
        if (out.buttonCount >= MAX_BUTTONS) return ERR.too_many_buttons
        out.buttons[out.buttonCount++] = buf[v]
        break
      case OBJ.DEVICE_TYPE_ID:
        out.deviceTypeId = buf[v] | (buf[v + 1] << 8)
        break
      default:
        break
    }
    out.objectCount++
    off = v + len
  }
  return OK
}
