/**
 * Lamp-box supervision (issue 5 §3) as a pure state machine over decoded
 * polls: no I/O, no timers of its own. The driver feeds it every poll result
 * and calls check() on its poll tick; the supervisor turns them into alert
 * kinds and restores on the DeviceInputSink. Time comes from the Clock only,
 * so tests drive it with FakeClock.
 *
 * Each trouble is a condition that must hold for `confirm` consecutive polls
 * before it is raised and be gone as long before it is restored, so one bad
 * sample on a long RS-485 line neither raises nor clears an alert.
 */
import type { Clock } from '../time/clock.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { DeviceInputSink } from '../device-driver.js'
import {
  CH_BLUE, CH_RED, STATUS_BATTERY_LOW, STATUS_BLUE_FAULT, STATUS_CONTROLLER_FAULT, STATUS_LAMP_DARK,
  STATUS_OVER_TEMP, STATUS_RED_FAULT, type LampBoxStatus,
} from '../../protocols/lamp-box/register-map.js'

/** DEVICE_FAULT values: why the link is down. */
export const FAULT_PORT_LOST = 1 // unplugged, closed under us, or the path vanished
export const FAULT_PORT_OPEN = 2 // the port cannot be opened (wrong path, permissions, busy)
export const FAULT_WRONG_UNIT = 3 // other unit ids answer, ours does not

/** LAMP_FAULT values: the controller itself is in trouble. */
export const LAMP_FAULT_CONTROLLER = 1 // STATUS_CONTROLLER_FAULT (self-test)
export const LAMP_FAULT_PATTERN = 2 // the commanded pattern is not running despite rewrites
export const LAMP_FAULT_STALLED = 3 // answers, but its heartbeat counter stopped
export const LAMP_FAULT_OVER_TEMP = 4 // STATUS_OVER_TEMP

/**
 * RESTORED carries which trouble cleared: value = kind + 256 * detail, where
 * detail is the raise value for CHANNEL_FAULT (CH_RED 1 / CH_BLUE 2),
 * LAMP_FAULT (LAMP_FAULT_*) and DEVICE_FAULT (FAULT_*), else 0.
 */
export function restoreValue(kind: number, detail: number): number {
  return kind + 256 * detail
}

export type ModbusErrorCounter = 'modbus_timeout' | 'modbus_crc' | 'modbus_exception' | 'modbus_bad_frame'

/** The heartbeat register must move at least this often (it counts seconds). */
export const STALL_MS = 5000
/** Battery must climb this far above the threshold to restore (no flapping at the edge). */
export const BATTERY_HYSTERESIS_PCT = 5
/** HEARTBEAT (a state kind) goes to the core at most this often. */
export const HEARTBEAT_EVERY_MS = 30_000

export interface LampSupervisorOptions {
  device: number
  sink: DeviceInputSink
  clock: Clock
  supervisionMs: number
  confirmPolls: number
  minMa: number
  maxMa: number
  batteryLowPct: number
}

// Condition table, one row per trouble (struct of arrays; indexes below).
const C_DARK = 0, C_RED = 1, C_BLUE = 2, C_MAINS = 3, C_DOOR = 4, C_BATTERY = 5
const C_CONTROLLER = 6, C_OVER_TEMP = 7, C_PATTERN = 8, C_STALL = 9
const COND_KIND = [Kind.LAMP_DARK, Kind.CHANNEL_FAULT, Kind.CHANNEL_FAULT, Kind.MAINS_LOST, Kind.DOOR_OPEN,
  Kind.LOW_BATTERY, Kind.LAMP_FAULT, Kind.LAMP_FAULT, Kind.LAMP_FAULT, Kind.LAMP_FAULT]
const COND_DETAIL = [0, CH_RED, CH_BLUE, 0, 0, 0, LAMP_FAULT_CONTROLLER, LAMP_FAULT_OVER_TEMP, LAMP_FAULT_PATTERN, LAMP_FAULT_STALLED]
const COND_COUNT = COND_KIND.length

export class LampSupervisor {
  private readonly o: LampSupervisorOptions
  private readonly active = new Uint8Array(COND_COUNT)
  private readonly streak = new Uint16Array(COND_COUNT)
  private readonly confirm = new Uint16Array(COND_COUNT)
  private lastGood = 0
  private missing = false
  private online = false
  private deviceFault = 0
  private lastHeartbeat = -1
  private heartbeatMovedAt = 0
  private lastHeartbeatSent = -Infinity
  private lastBatteryPct = NaN
  private polls = 0

  constructor(opts: LampSupervisorOptions) {
    this.o = opts
    this.confirm.fill(Math.max(1, opts.confirmPolls))
    this.confirm[C_DOOR] = 1 // a door opening is tamper: report it on the first poll that sees it
    this.confirm[C_STALL] = 1 // already time-based (STALL_MS)
    this.confirm[C_PATTERN] = Math.max(1, opts.confirmPolls) + 2 // the driver rewrites first
  }

  /** Start the missing-poll clock (call from the driver's start()). */
  start(): void {
    this.lastGood = this.o.clock.monotonic()
    this.o.sink.linkStatus(this.o.device, 'starting', 'opening port')
  }

  get isMissing(): boolean { return this.missing }
  get isOnline(): boolean { return this.online }
  /** Condition currently raised, for status displays and tests: kind + detail as in restoreValue(). */
  activeTroubles(): number[] {
    const out: number[] = []
    for (let i = 0; i < COND_COUNT; i++) if (this.active[i]) out.push(restoreValue(COND_KIND[i], COND_DETAIL[i]))
    if (this.missing) out.push(Kind.MISSING)
    if (this.deviceFault) out.push(restoreValue(Kind.DEVICE_FAULT, this.deviceFault))
    return out
  }

  /**
   * One good poll. `steadyMask` = channels the running pattern lights steadily
   * (CH_* bits), -1 when it blinks or was just changed (no current check);
   * `commanded` = pattern code last written, -1 if none.
   */
  pollOk(s: LampBoxStatus, steadyMask: number, commanded: number): void {
    const now = this.o.clock.monotonic()
    const o = this.o
    this.lastGood = now
    this.polls++
    if (this.missing) {
      this.missing = false
      this.emit(Kind.RESTORED, restoreValue(Kind.MISSING, 0))
    }
    if (!this.online) {
      this.online = true
      o.sink.linkStatus(o.device, 'online', 'polling')
    }
    if (this.deviceFault) {
      const code = this.deviceFault
      this.deviceFault = 0
      this.emit(Kind.RESTORED, restoreValue(Kind.DEVICE_FAULT, code))
    }

    const bits = s.statusBits
    const steady = steadyMask >= 0
    const redUnlit = unlit(s.redMa, s.redSense, o.minMa)
    const blueUnlit = unlit(s.blueMa, s.blueSense, o.minMa)
    const darkByCurrent = steady && steadyMask !== 0 &&
      ((steadyMask & CH_RED) === 0 || redUnlit) && ((steadyMask & CH_BLUE) === 0 || blueUnlit)
    const dark = (bits & STATUS_LAMP_DARK) !== 0 || darkByCurrent
    this.update(C_DARK, dark, commanded)
    // A dark lamp would also fail both channel checks: report it once, as dark.
    this.update(C_RED, (bits & STATUS_RED_FAULT) !== 0 || s.redMa > o.maxMa ||
      (!dark && steady && (steadyMask & CH_RED) !== 0 && redUnlit), CH_RED)
    this.update(C_BLUE, (bits & STATUS_BLUE_FAULT) !== 0 || s.blueMa > o.maxMa ||
      (!dark && steady && (steadyMask & CH_BLUE) !== 0 && blueUnlit), CH_BLUE)
    this.update(C_MAINS, s.mainsOk === 0, s.batteryPct)
    this.update(C_DOOR, s.doorOpen === 1, NaN)
    const pct = s.batteryPct
    const low = this.active[C_BATTERY]
      ? (bits & STATUS_BATTERY_LOW) !== 0 || pct <= o.batteryLowPct + BATTERY_HYSTERESIS_PCT
      : (bits & STATUS_BATTERY_LOW) !== 0 || pct <= o.batteryLowPct
    this.update(C_BATTERY, low, pct)
    this.update(C_CONTROLLER, (bits & STATUS_CONTROLLER_FAULT) !== 0, LAMP_FAULT_CONTROLLER)
    this.update(C_OVER_TEMP, (bits & STATUS_OVER_TEMP) !== 0, LAMP_FAULT_OVER_TEMP)
    this.update(C_PATTERN, commanded >= 0 && s.activePattern >= 0 && s.activePattern !== commanded, LAMP_FAULT_PATTERN)

    if (s.heartbeat >= 0) {
      if (s.heartbeat !== this.lastHeartbeat || this.lastHeartbeat < 0) {
        this.lastHeartbeat = s.heartbeat
        this.heartbeatMovedAt = now
      }
      this.update(C_STALL, now - this.heartbeatMovedAt > STALL_MS, LAMP_FAULT_STALLED)
    }
    if (now - this.lastHeartbeatSent >= HEARTBEAT_EVERY_MS) {
      this.lastHeartbeatSent = now
      this.emit(Kind.HEARTBEAT, s.heartbeat >= 0 ? s.heartbeat : this.polls)
    }
    if (pct === pct && pct !== this.lastBatteryPct) { // pct === pct: not NaN
      this.lastBatteryPct = pct
      this.emit(Kind.BATTERY, pct)
    }
  }

  /** A failed transaction: counted; silence itself is judged by check(). */
  pollFailed(counter: ModbusErrorCounter): void {
    this.o.sink.count(this.o.device, counter, 1)
  }

  /** Any other counted, non-fatal event (pattern rewrites, garbage...). */
  count(counter: string, by = 1): void {
    this.o.sink.count(this.o.device, counter, by)
  }

  /** Ms until check() would raise MISSING; Infinity while it is raised or supervision is off. */
  remainingMs(): number {
    if (this.missing || this.o.supervisionMs <= 0) return Infinity
    return this.o.supervisionMs - (this.o.clock.monotonic() - this.lastGood)
  }

  /** Call on every poll tick, link up or down: raises MISSING after supervision time without a good poll. */
  check(): void {
    const o = this.o
    if (this.missing || o.supervisionMs <= 0) return
    const silentMs = o.clock.monotonic() - this.lastGood
    if (silentMs >= o.supervisionMs) {
      this.missing = true
      this.emit(Kind.MISSING, Math.round(silentMs / 1000))
    }
  }

  /** The link is down or unusable (FAULT_* code): fault status + one DEVICE_FAULT per outage. */
  linkFault(code: number, reason: string): void {
    this.online = false
    this.o.sink.linkStatus(this.o.device, 'fault', reason)
    if (this.deviceFault === 0) {
      this.deviceFault = code
      this.emit(Kind.DEVICE_FAULT, code)
    }
  }

  /** Polls fail but the port is fine (nobody answers): status only, MISSING follows from check(). */
  linkSilent(reason: string): void {
    this.online = false
    this.o.sink.linkStatus(this.o.device, 'fault', reason)
  }

  /** Driver stopped. */
  stopped(): void {
    this.online = false
    this.o.sink.linkStatus(this.o.device, 'offline', 'stopped')
  }

  private update(i: number, bad: boolean, value: number): void {
    const isActive = this.active[i] === 1
    if (bad === isActive) { this.streak[i] = 0; return }
    if (++this.streak[i] < this.confirm[i]) return
    this.streak[i] = 0
    this.active[i] = bad ? 1 : 0
    if (bad) this.emit(COND_KIND[i], value)
    else this.emit(Kind.RESTORED, restoreValue(COND_KIND[i], COND_DETAIL[i]))
  }

  private emit(kind: number, value: number): void {
    this.o.sink.input(this.o.device, kind, value, this.o.clock.now(), NaN, -1)
  }
}

/** 1 when the channel measurably carries no current; unknown (not measured) counts as lit. */
function unlit(ma: number, sense: number, minMa: number): boolean {
  return ma < minMa || sense === 0
}
