/**
 * Builds the WhistleReceiver's per-device table once, at construction, from
 * validated config: everything the hot path needs becomes a typed-array slot
 * or a preallocated buffer, so per-advert work is array reads (DESIGN §4).
 * Configuration mistakes throw here, with the device id and what to do.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { Kind, kindFromName } from '../../protocols/event-kinds.js'
import { parseBleAddress } from '../../protocols/ble/ble-address.js'
import { MAX_AD_PAYLOAD } from '../../protocols/ble/decode-result.js'
import { parseUuid } from '../../protocols/ble/ibeacon.js'
import type { BleWhistleConfig } from './config.js'
import type { CounterRule } from './replay-policy.js'

export const Format = { BTHOME: 0, IBEACON: 1, EDDYSTONE: 2 } as const
export type Format = (typeof Format)[keyof typeof Format]

/** One configured whistle / SOS button / tag, as the composition root hands it over. */
export interface WhistleDeviceSpec {
  /** Index in the interned device table (the `device` argument of DeviceInputSink). */
  index: number
  /** The validated config entry (defaults applied). */
  config: BleWhistleConfig
  /**
   * The AES key named by `config.key_ref`, resolved from the secrets file:
   * 16 bytes, or 32 hex characters. null/absent for plaintext devices.
   */
  key?: Uint8Array | string | null
}

export class WhistleSlots {
  readonly count: number
  readonly byAddress = new Map<string, number>()
  readonly addresses: string[] = []
  readonly ids: string[] = []
  readonly index: Int32Array
  readonly format: Uint8Array
  /** Kind raised by press / double / triple; -1 = none. */
  readonly pressKind: Int8Array
  /** Kind raised by long press / hold; -1 = none. */
  readonly longKind: Int8Array
  readonly windowMs: Float64Array
  readonly keys: (KeyObject | null)[] = []
  readonly macs: Uint8Array[] = []
  readonly rules: CounterRule[] = []
  readonly ibeaconUuid: (Uint8Array | null)[] = []
  readonly ibeaconMajor: Int32Array
  readonly ibeaconPressMinor: Int32Array
  // --- mutable state ---
  readonly lastCounter: Float64Array
  /** Old high-water mark while the device is in the restarted (unverified) state, else -1 (replay-policy.ts). */
  readonly highWater: Float64Array
  readonly lastValidMono: Float64Array
  /** Bytes of the last accepted encrypted packet (identical-repeat check); length -1 = unknown. */
  readonly lastPayload: Uint8Array[] = []
  readonly lastPayloadLen: Int32Array
  readonly lastHeartbeatMono: Float64Array
  /** An advert held back by the heartbeat rate limit, reported by flushHeartbeats(). */
  readonly pendingHeartbeat: Uint8Array
  readonly pendingRssi: Float64Array
  readonly pendingTime: Float64Array
  readonly lastBattery: Int16Array

  constructor(specs: readonly WhistleDeviceSpec[]) {
    const n = specs.length
    this.count = n
    this.index = new Int32Array(n)
    this.format = new Uint8Array(n)
    this.pressKind = new Int8Array(n)
    this.longKind = new Int8Array(n)
    this.windowMs = new Float64Array(n)
    this.ibeaconMajor = new Int32Array(n)
    this.ibeaconPressMinor = new Int32Array(n)
    this.lastCounter = new Float64Array(n).fill(-1)
    this.highWater = new Float64Array(n).fill(-1)
    this.lastValidMono = new Float64Array(n).fill(-1)
    this.lastPayloadLen = new Int32Array(n).fill(-1)
    this.lastHeartbeatMono = new Float64Array(n).fill(-Infinity)
    this.pendingHeartbeat = new Uint8Array(n)
    this.pendingRssi = new Float64Array(n)
    this.pendingTime = new Float64Array(n)
    this.lastBattery = new Int16Array(n).fill(-1)

    specs.forEach((spec, slot) => {
      const c = spec.config
      const where = `ble-whistle device '${c.id}'`
      const mac = new Uint8Array(6)
      if (!parseBleAddress(c.address, mac)) throw new Error(`${where}: address '${c.address}' is not AA:BB:CC:DD:EE:FF; fix it in the config`)
      const address = c.address.toUpperCase()
      if (this.byAddress.has(address)) {
        throw new Error(`${where}: address ${address} is also used by '${this.ids[this.byAddress.get(address)!]}'; each device needs its own address`)
      }
      this.byAddress.set(address, slot)
      this.addresses.push(address)
      this.ids.push(c.id)
      this.macs.push(mac)
      this.index[slot] = spec.index
      this.format[slot] = c.format === 'ibeacon' ? Format.IBEACON : c.format === 'eddystone' ? Format.EDDYSTONE : Format.BTHOME
      // A check-in device (issue 15) reports every press as CHECK_IN, never an alarm kind.
      const checkIn = c.role === 'check_in'
      this.pressKind[slot] = checkIn ? Kind.CHECK_IN : kindOf(c.alert_kind, where)
      this.longKind[slot] = c.long_press_kind === 'none' ? -1 : c.long_press_kind === 'same' || checkIn ? this.pressKind[slot] : kindOf(c.long_press_kind, where)
      this.windowMs[slot] = c.dedupe_window_ms
      this.keys.push(parseKey(spec.key ?? null, c, where))
      this.rules.push(Object.freeze({
        allowReset: c.counter_reset !== 'never',
        resetMax: c.counter_reset_max,
        resetSilenceMs: c.counter_reset_silence_s * 1000,
      }))
      let uuid: Uint8Array | null = null
      if (c.ibeacon_uuid !== '') {
        uuid = parseUuid(c.ibeacon_uuid)
        if (uuid === null) throw new Error(`${where}: ibeacon_uuid '${c.ibeacon_uuid}' is not a UUID (32 hex digits, dashes optional)`)
      }
      this.ibeaconUuid.push(uuid)
      this.ibeaconMajor[slot] = c.ibeacon_major
      this.ibeaconPressMinor[slot] = c.ibeacon_press_minor
      this.lastPayload.push(new Uint8Array(MAX_AD_PAYLOAD))
    })
  }
}

function kindOf(name: string, where: string): number {
  const k = kindFromName(name)
  if (k === undefined || k >= 32) throw new Error(`${where}: '${name}' is not an alert kind`)
  return k
}

function parseKey(key: Uint8Array | string | null, c: BleWhistleConfig, where: string): KeyObject | null {
  if (key === null) {
    if (c.key_ref !== '') throw new Error(`${where}: key_ref '${c.key_ref}' was not found in the secrets file; add it (32 hex characters) or clear key_ref`)
    return null
  }
  let bytes: Uint8Array
  if (typeof key === 'string') {
    const hex = key.replace(/[\s:-]/g, '')
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`${where}: the key named '${c.key_ref}' must be 32 hex characters (16 bytes); check the secrets file`)
    bytes = Buffer.from(hex, 'hex')
  } else {
    if (key.length !== 16) throw new Error(`${where}: the key named '${c.key_ref}' must be 16 bytes, not ${key.length}; check the secrets file`)
    bytes = key
  }
  if (c.format !== 'bthome') throw new Error(`${where}: a key is set but format is '${c.format}'; only BTHome devices are encrypted`)
  return createSecretKey(bytes)
}

