/**
 * One configured button as all three drivers (firmata, gpio, sim) see it:
 * raw readings in, DeviceInputSink calls out. Wiring polarity, the press
 * detector, the supervised loop and the link state live here so the three
 * drivers differ only in how they get readings.
 *
 * Events a button reports (value in brackets):
 *   confirmed press -> alert_kind [press number]      release -> RELEASE
 *   Nth press in window -> ESCALATION [N]              stuck -> STUCK, then RESTORED [Kind.STUCK]
 *   loop cut -> WIRE_CUT [reading]  short -> WIRE_SHORT [reading]
 *   loop back to normal -> RESTORED [Kind.WIRE_CUT|WIRE_SHORT] + LOOP_NORMAL [reading]
 *   board lost -> linkStatus fault + DEVICE_FAULT; back -> linkStatus online + RESTORED [Kind.DEVICE_FAULT]
 */
import type { Clock } from '../time/clock.js'
import type { DeviceInputSink } from '../device-driver.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { PanicButtonConfig } from './config.js'
import { PressDetector, type PressEvents } from './press-detector.js'
import { LoopSupervisor, LoopZone, loopThresholds, type LoopEvents } from './loop-supervisor.js'

const ALERT_KINDS: Record<PanicButtonConfig['alert_kind'], number> = {
  panic: Kind.PANIC,
  silent_holdup: Kind.SILENT_HOLDUP,
  duress: Kind.DURESS,
  test: Kind.TEST,
}

/** A button as the composition root hands it to a driver. */
export interface PanicButtonDevice {
  /** Index in the interned device table (DeviceInputSink `device`). */
  index: number
  config: PanicButtonConfig
}

export class ButtonChannel implements PressEvents, LoopEvents {
  readonly index: number
  readonly config: PanicButtonConfig
  readonly detector: PressDetector
  readonly loop: LoopSupervisor | null
  private faulted = false
  private online = false
  private lastHeartbeatMono = -Infinity
  /** Level that means "pressed" on a digital pin. */
  private readonly pressedLevel: number

  constructor(dev: PanicButtonDevice, private readonly clock: Clock, private readonly sink: DeviceInputSink) {
    const c = dev.config
    this.index = dev.index
    this.config = c
    const supervised = c.wiring === 'eol_supervised'
    this.detector = new PressDetector({
      // a supervised loop is debounced by its settling time instead
      debounceMs: supervised ? 0 : c.debounce_ms,
      holdMs: c.hold_ms,
      // A check-in button (role: check_in, issue 15) never escalates: repeats answer nothing new.
      pressCount: c.role === 'check_in' ? 0 : c.press_count,
      pressWindowMs: c.press_window_ms,
      stuckMs: c.stuck_s * 1000,
      alertKind: c.role === 'check_in' ? Kind.CHECK_IN : ALERT_KINDS[c.alert_kind],
    }, clock, this)
    if (supervised) {
      const th = loopThresholds(
        { refOhms: c.loop_ref_ohms, normalOhms: c.loop_normal_ohms, alarmOhms: c.loop_alarm_ohms, adcMax: c.adc_max },
        { shortBelow: c.loop_short_below, alarmAbove: c.loop_alarm_above, openAbove: c.loop_open_above },
        c.loop_hysteresis, c.debounce_ms)
      if (!th.ok) throw new Error(`panic button "${c.id}": ${th.error}`)
      this.loop = new LoopSupervisor(th.value, clock, this)
    } else {
      this.loop = null
    }
    // With the pull-up, a normally-open contact to GND reads 0 when pressed;
    // a normally-closed one opens and the pull-up makes it read 1.
    const closedLevel = c.pullup ? 0 : 1
    this.pressedLevel = c.wiring === 'normally_closed' ? 1 - closedLevel : closedLevel
  }

  get supervised(): boolean { return this.loop !== null }

  /** Raw digital pin level (0/1); `edgeMono`: when it changed, if earlier than now (PressDetector.sample). */
  digital(level: number, edgeMono = NaN): void {
    this.detector.sample(level === this.pressedLevel, edgeMono)
  }

  /**
   * A level the board reported from `fromMono` to `toMono` and took back before it could be
   * confirmed (board-pins.ts): a press if it lasted the debounce and the hold, else nothing.
   */
  digitalPulse(level: number, fromMono: number, toMono: number): void {
    const c = this.config
    if (toMono - fromMono < Math.max(c.debounce_ms, c.hold_ms)) return
    this.detector.sample(level === this.pressedLevel, fromMono)
    this.detector.sample(level !== this.pressedLevel, toMono)
  }

  /** Already-decoded contact state (gpio-keys applies the polarity in the kernel). */
  contact(pressed: boolean): void {
    this.detector.sample(pressed)
  }

  /** The raw level this button's pin reads when released / pressed (sim and tests). */
  levelFor(pressed: boolean): number {
    return pressed ? this.pressedLevel : 1 - this.pressedLevel
  }

  /** Raw ADC reading of a supervised loop. */
  analog(reading: number): void {
    this.loop?.sample(reading)
  }

  /** The driver started: the link is being opened. */
  linkStarting(): void {
    this.sink.linkStatus(this.index, 'starting', '')
  }

  /** Board/input link is up (handshake done, pin reporting on). */
  linkUp(): void {
    this.online = true
    this.sink.linkStatus(this.index, 'online', '')
    if (this.faulted) {
      this.faulted = false
      this.sink.input(this.index, Kind.RESTORED, Kind.DEVICE_FAULT, this.clock.now(), NaN, -1)
    }
  }

  /** Board/input link lost or could not be opened: one fault per episode. */
  linkDown(reason: string): void {
    this.online = false
    this.detector.linkLost()
    this.loop?.linkLost()
    this.sink.linkStatus(this.index, 'fault', reason)
    if (!this.faulted) {
      this.faulted = true
      this.sink.input(this.index, Kind.DEVICE_FAULT, NaN, this.clock.now(), NaN, -1)
    }
  }

  /** Called by the driver's liveness tick while the link is healthy. */
  heartbeat(): void {
    const s = this.config.supervision_s
    if (!this.online || s <= 0) return
    const now = this.clock.monotonic()
    if (now - this.lastHeartbeatMono < (s * 1000) / 2) return
    this.lastHeartbeatMono = now
    this.sink.input(this.index, Kind.HEARTBEAT, NaN, this.clock.now(), NaN, -1)
  }

  count(counter: string, by = 1): void { this.sink.count(this.index, counter, by) }

  /** The driver stopped: timers off, reported offline. */
  linkStopped(): void {
    this.detector.dispose()
    this.loop?.dispose()
    this.sink.linkStatus(this.index, 'offline', 'stopped')
  }

  // PressEvents
  pressEvent(kind: number, value: number, hwTime: number): void {
    this.sink.input(this.index, kind, value, hwTime, NaN, -1)
  }

  // LoopEvents
  loopZone(zone: LoopZone, previous: LoopZone | -1, reading: number, hwTime: number): void {
    const s = this.sink
    const i = this.index
    // a trouble zone left for any other zone is restored first
    if (previous === LoopZone.OPEN) s.input(i, Kind.RESTORED, Kind.WIRE_CUT, hwTime, NaN, -1)
    else if (previous === LoopZone.SHORT) s.input(i, Kind.RESTORED, Kind.WIRE_SHORT, hwTime, NaN, -1)
    if (zone === LoopZone.ALARM) { this.detector.sample(true); return }
    this.detector.sample(false)
    if (zone === LoopZone.OPEN) s.input(i, Kind.WIRE_CUT, reading, hwTime, NaN, -1)
    else if (zone === LoopZone.SHORT) s.input(i, Kind.WIRE_SHORT, reading, hwTime, NaN, -1)
    else s.input(i, Kind.LOOP_NORMAL, reading, hwTime, NaN, -1)
  }
}
