/**
 * Supervision (issue 6 §3, DESIGN §2): every device with an expected interval
 * (`supervision_s`) that stays silent longer raises `missing`; the first
 * input after that raises `restored` (value = Kind.MISSING).
 *
 * Hot path: an event only writes its time into a typed array. Each supervised
 * device has ONE wheel timer; when it fires, the supervisor checks the last
 * time it heard the device and either re-arms for the remaining time or
 * raises `missing`. So a device is reported missing within its interval plus
 * one wheel tick, and heartbeats cost no timer operations at all.
 */
import { isRaisedByGateway } from '../state/fault-kinds.js'
import type { Clock } from '../../devices/time/clock.js'
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { DeviceTable } from '../core/device-table.js'
import type { DeviceInputSink } from '../../devices/device-driver.js'
import { TimerWheel, WheelTimer, type WheelTarget } from '../core/timer-wheel.js'

export class DeviceSupervisor implements EventSink, WheelTarget {
  readonly name = 'supervisor'
  private readonly lastHeard: Float64Array
  private readonly missing: Uint8Array
  private readonly timers: (WheelTimer | null)[]
  missingRaised = 0

  constructor(
    private readonly devices: DeviceTable,
    private readonly wheel: TimerWheel,
    private readonly clock: Clock,
    private readonly sink: DeviceInputSink,
  ) {
    this.lastHeard = new Float64Array(devices.size)
    this.missing = new Uint8Array(devices.size)
    this.timers = devices.entries.map((e) => (e.supervisionMs > 0 ? new WheelTimer(this, e.index) : null))
  }

  /** Arm every supervised device; silence is counted from now. */
  start(): void {
    const now = this.clock.now()
    for (const t of this.timers) {
      if (!t) continue
      this.lastHeard[t.tag] = now
      this.wheel.arm(t, this.devices.get(t.tag).supervisionMs)
    }
  }

  stop(): void {
    for (const t of this.timers) if (t) this.wheel.cancel(t)
  }

  onEvent(ev: CoreEvent): void {
    const d = ev.device
    if (this.timers[d] === null || isRaisedByGateway(ev.kind)) return
    this.lastHeard[d] = ev.hwTime
    if (this.missing[d] === 1 && ev.kind !== Kind.RESTORED) {
      this.missing[d] = 0
      this.sink.input(d, Kind.RESTORED, Kind.MISSING, ev.hwTime, Number.NaN, -1)
      this.wheel.arm(this.timers[d] as WheelTimer, this.devices.get(d).supervisionMs)
    }
  }

  onTimer(timer: WheelTimer): void {
    const d = timer.tag
    const interval = this.devices.get(d).supervisionMs
    const now = this.clock.now()
    const silentFor = now - this.lastHeard[d]
    if (silentFor < interval) {
      this.wheel.arm(timer, interval - silentFor)
      return
    }
    this.missing[d] = 1
    this.missingRaised++
    this.sink.input(d, Kind.MISSING, Math.round(silentFor / 1000), now, Number.NaN, -1)
  }
}
