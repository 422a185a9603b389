/**
 * Every event the gateway moves, as a small integer so the hot path stores it
 * in a typed array (DESIGN §4). Names are the wire names of the station
 * contract (docs/protocol.md, protocols/mqtt/schemas/alert.schema.json).
 *
 * Class decides the lane: ALERT events are durable (outbox) and go first;
 * STATE events are latest-value (retained) and never queued.
 */
export const EventClass = { ALERT: 0, STATE: 1 } as const
export type EventClass = (typeof EventClass)[keyof typeof EventClass]

/** Alert kinds a station must see (QoS 1, outbox, ack). */
export const Kind = {
  PANIC: 0,
  SILENT_HOLDUP: 1,
  DURESS: 2,
  WHISTLE: 3,
  SOS: 4,
  TAMPER: 5,
  WIRE_CUT: 6,
  WIRE_SHORT: 7,
  STUCK: 8,
  MISSING: 9,
  RESTORED: 10,
  LOW_BATTERY: 11,
  MAINS_LOST: 12,
  LAMP_FAULT: 13,
  DEVICE_FAULT: 14,
  TEST: 15,
  CANCEL: 16,
  ESCALATION: 17,
  GATEWAY_TROUBLE: 18,
  // Lamp box (issue 5, devices/lamp-box): distinct troubles so the station can tell
  // "the lamp is out" from "someone opened the box" without decoding values.
  LAMP_DARK: 19,
  DOOR_OPEN: 20,
  CHANNEL_FAULT: 21,
  TEST_REPORT: 22,
  // Roll call (issue 15, docs/protocol.md §Roll call): information and trouble, never an alarm.
  // Both carry `roll_call`, which the encoder writes from the id set when the roll call starts.
  CHECK_IN: 23,
  ROLL_CALL_MISSED: 24,
  // Dual path (issue 16 §1, EN 50136-1 DP1-DP4): one path to the station failed; value = its index,
  // the alert names it (`path`). Sent over another path; `restored` (PATH_FAILURE + 256 x index) when it is back.
  PATH_FAILURE: 25,
  // --- state / telemetry (latest value, never queued) ---
  HEARTBEAT: 32,
  BATTERY: 33,
  RELEASE: 34,
  LOOP_NORMAL: 35,
  ADVERTISEMENT: 36,
} as const
export type Kind = (typeof Kind)[keyof typeof Kind]

export const KIND_COUNT = 64

/** Wire names, indexed by Kind. */
export const KIND_NAMES: readonly string[] = (() => {
  const names: string[] = new Array(KIND_COUNT).fill('')
  for (const [k, v] of Object.entries(Kind)) names[v] = k.toLowerCase()
  return names
})()

export function kindClass(kind: number): EventClass {
  return kind < 32 ? EventClass.ALERT : EventClass.STATE
}

export function kindFromName(name: string): Kind | undefined {
  const i = KIND_NAMES.indexOf(name)
  return i >= 0 && KIND_NAMES[i] !== '' ? (i as Kind) : undefined
}

/**
 * Bits a driver may set on an input (DeviceInputSink.input `flags`).
 * UNVERIFIED: the device's freshness could not be proven (a BLE counter that
 * restarted below its high-water mark, issue 12 §5): the alarm is raised and
 * marked `unverified` so the station verifies it (a call, a camera) before
 * treating it as proven.
 */
export const InputFlag = { UNVERIFIED: 1 } as const

/** The kinds a configured device may map its press/blow to (config `alert_kind`). */
export const PRESS_ALERT_KINDS = ['panic', 'silent_holdup', 'duress', 'whistle', 'sos', 'test', 'cancel'] as const
