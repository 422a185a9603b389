/**
 * The post side of the roll call (issue 15 "Roll call", docs/protocol.md §Roll call).
 *
 * It sits between the drivers and the event core as their DeviceInputSink: every input
 * passes straight through except CHECK_IN, which a device with `role: check_in` reports
 * for each confirmed press. A check-in press never becomes an alarm and
 *   - outside a roll call raises nothing (counted `check_in_outside_roll_call`);
 *   - during one raises exactly one `check_in` alert carrying the roll call id;
 *   - after that, until the deadline, is counted (`check_in_repeated`), not sent again.
 * At the deadline without a check-in the gateway raises one `roll_call_missed`
 * (device "gateway", like every alert the gateway raises about itself).
 *
 * The roll call is shown locally while it waits for an answer (`show`): the composition
 * root publishes it retained on the embedded broker and clears it on the answer or the deadline.
 */
import type { Logger } from 'pino'
import type { DeviceInputSink, DeviceLinkStatus } from '../../devices/device-driver.js'
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import { Kind } from '../../protocols/event-kinds.js'
import { ROLL_CALL_ID } from '../../protocols/mqtt/alert-encoder.js'
import { GATEWAY_DEVICE } from '../core/device-table.js'

/** docs/protocol.md §Roll call: `deadline_s` 5-3600. */
export const ROLL_CALL_MIN_S = 5
export const ROLL_CALL_MAX_S = 3600

/** What the local display gets: the roll call waiting for an answer, or null to clear it. */
export interface RollCallShown {
  id: string
  /** Unix ms. */
  deadline: number
}

export interface RollCallDeps {
  clock: Clock
  /** The event core. */
  core: Pick<DeviceInputSink, 'linkStatus' | 'count'> & { input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number, flags?: number): boolean }
  /** AlertEncoder.setRollCall: the id the roll-call kinds carry. */
  setRollCallId(id: string): boolean
  show(shown: RollCallShown | null): void
  log: Logger
}

export interface RollCallCounters { started: number; checkIns: number; missed: number; replaced: number }

type StartResult = { ok: true; id: string; deadline: number } | { ok: false; error: string }

interface Active { id: string; deadline: number; deadlineS: number; answered: boolean; timer: TimerHandle }

export class RollCall implements DeviceInputSink {
  private active: Active | null = null
  readonly counters: RollCallCounters = { started: 0, checkIns: 0, missed: 0, replaced: 0 }

  constructor(private readonly deps: RollCallDeps) {}

  /** The `roll-call` command's args, checked; a new roll call replaces an older one. */
  start(args: Record<string, unknown>, by: string): StartResult {
    const { id, deadline_s: s } = args
    if (typeof id !== 'string' || !ROLL_CALL_ID.test(id)) {
      return { ok: false, error: 'roll-call needs args.id: 1-64 letters, digits, "_" or "-" (the station\'s roll call id, e.g. "rc-mf3k2-a1b2c3")' }
    }
    if (typeof s !== 'number' || !Number.isInteger(s) || s < ROLL_CALL_MIN_S || s > ROLL_CALL_MAX_S) {
      return { ok: false, error: `roll-call needs args.deadline_s: whole seconds from ${ROLL_CALL_MIN_S} to ${ROLL_CALL_MAX_S}` }
    }
    const old = this.active
    // A command is delivered at least once (QoS 1): the same id again is the same roll call.
    if (old && old.id === id) return { ok: true, id, deadline: old.deadline }
    if (old) {
      this.deps.clock.clearTimeout(old.timer)
      this.counters.replaced++
      this.deps.log.info({ id: old.id, answered: old.answered, by: id }, 'roll call replaced by a newer one')
    }
    this.deps.setRollCallId(id)
    const deadline = this.deps.clock.now() + s * 1000
    const timer = this.deps.clock.setTimeout(() => this.deadlinePassed(), s * 1000)
    this.active = { id, deadline, deadlineS: s, answered: false, timer }
    this.counters.started++
    this.deps.log.info({ id, deadline_s: s, by }, 'roll call started')
    this.deps.show({ id, deadline })
    return { ok: true, id, deadline }
  }

  /** The roll call in progress (answered or not), or null. */
  get current(): { id: string; deadline: number; answered: boolean } | null {
    const a = this.active
    return a ? { id: a.id, deadline: a.deadline, answered: a.answered } : null
  }

  stop(): void {
    if (this.active) this.deps.clock.clearTimeout(this.active.timer)
    this.active = null
  }

  /** DeviceInputSink: the drivers' hot path. Only CHECK_IN takes the branch. */
  input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number, flags = 0): boolean {
    if (kind !== Kind.CHECK_IN) return this.deps.core.input(device, kind, value, hwTime, rssi, dedupeKey, flags)
    const a = this.active
    if (a === null) {
      this.deps.core.count(device, 'check_in_outside_roll_call', 1)
      return false
    }
    if (a.answered) {
      this.deps.core.count(device, 'check_in_repeated', 1)
      return false
    }
    const ok = this.deps.core.input(device, kind, value, hwTime, rssi, dedupeKey, flags)
    if (ok) {
      a.answered = true
      this.counters.checkIns++
      this.deps.log.info({ id: a.id, device }, 'roll call answered')
      this.deps.show(null)
    }
    return ok
  }

  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.deps.core.linkStatus(device, status, reason)
  }

  count(device: number, counter: string, by?: number): void {
    this.deps.core.count(device, counter, by)
  }

  private deadlinePassed(): void {
    const a = this.active
    if (!a) return
    this.active = null
    if (a.answered) return
    this.counters.missed++
    this.deps.log.warn({ id: a.id }, 'roll call missed: no check-in by the deadline')
    // The encoder still holds this id (setRollCall is replaced only by a new roll call).
    this.deps.core.input(GATEWAY_DEVICE, Kind.ROLL_CALL_MISSED, a.deadlineS, this.deps.clock.now(), NaN, -1)
    this.deps.show(null)
  }
}
