/**
 * Simulated twin of the wired panic buttons (DESIGN §4): the same
 * DeviceDriver interface and the same ButtonChannel logic as hw-firmata and
 * hw-gpio, fed by calls instead of a board. Keeps the real invariants: the
 * "board" opens asynchronously, readings arrive as raw pin levels / ADC
 * counts (so wiring polarity, debounce, hold, counting and loop zones are
 * exercised), a plain contact cannot see its wire being cut, and the board
 * can be unplugged. All timing goes through ctx.clock (FakeClock in tests).
 */
import type { TimerHandle } from '../time/clock.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import { ButtonChannel, type PanicButtonDevice } from './button-channel.js'
import { loopReading } from './loop-supervisor.js'

export interface SimPanicButtonOptions {
  buttons: readonly PanicButtonDevice[]
  /** Time the simulated board takes to answer its handshake. */
  openDelayMs?: number
}

type Wire = 'ok' | 'cut' | 'short'

export class SimPanicButtonDriver implements DeviceDriver {
  readonly kind = 'panic-button' as const
  private readonly channels = new Map<string, ButtonChannel>()
  private readonly pressed = new Map<string, boolean>()
  private readonly wire = new Map<string, Wire>()
  private readonly timers = new Set<TimerHandle>()
  private plugged = false
  private started = false

  constructor(private readonly opts: SimPanicButtonOptions, private readonly ctx: DriverContext) {
    for (const b of opts.buttons) {
      this.channels.set(b.config.id, new ButtonChannel(b, ctx.clock, ctx.sink))
      this.pressed.set(b.config.id, false)
      this.wire.set(b.config.id, 'ok')
    }
  }

  get ids(): string[] { return [...this.channels.keys()] }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started) return
    this.started = true
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    for (const ch of this.channels.values()) ch.linkStarting()
    this.after(this.opts.openDelayMs ?? 20, () => this.replug())
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.plugged = false
    for (const t of this.timers) this.ctx.clock.clearTimeout(t)
    this.timers.clear()
    for (const ch of this.channels.values()) ch.linkStopped()
  }

  /**
   * Press a button for holdMs (default: long enough to pass its debounce and
   * hold-to-confirm), then release it. Returns false for an unknown id.
   */
  press(id: string, holdMs?: number): boolean {
    const ch = this.channels.get(id)
    if (!ch) return false
    const c = ch.config
    this.setPressed(id, true)
    this.after(holdMs ?? c.hold_ms + c.debounce_ms + 100, () => this.setPressed(id, false))
    return true
  }

  /** Whether the button is down now: a press not yet released, or held by setPressed. */
  isPressed(id: string): boolean { return this.pressed.get(id) === true }

  /** Hold a button down (or let it go) until told otherwise: stuck contacts, hold tests. */
  setPressed(id: string, pressed: boolean): boolean {
    const ch = this.channels.get(id)
    if (!ch) return false
    this.pressed.set(id, pressed)
    this.feed(ch)
    return true
  }

  /** Cut the loop wire. A plain contact cannot tell (returns false): only eol_supervised loops can. */
  cut(id: string): boolean { return this.setWire(id, 'cut') }
  /** Short the loop wire (tamper). Only eol_supervised loops can tell. */
  short(id: string): boolean { return this.setWire(id, 'short') }
  /** Repair the wire. */
  restore(id: string): boolean { return this.setWire(id, 'ok') }

  /** Pull the board's USB cable: every button reports a fault. */
  unplug(reason = 'simulated board unplugged'): void {
    this.plugged = false
    for (const ch of this.channels.values()) ch.linkDown(reason)
  }

  /** Plug the board back in: buttons come online and report their current state. */
  replug(): void {
    if (!this.started) return
    this.plugged = true
    for (const ch of this.channels.values()) {
      ch.linkUp()
      this.feed(ch)
    }
  }

  private setWire(id: string, w: Wire): boolean {
    const ch = this.channels.get(id)
    if (!ch || !ch.supervised) return false
    this.wire.set(id, w)
    this.feed(ch)
    return true
  }

  /** Deliver the reading the hardware would show now. */
  private feed(ch: ButtonChannel): void {
    if (!this.plugged) return
    const id = ch.config.id
    const pressed = this.pressed.get(id) === true
    if (!ch.supervised) { ch.digital(ch.levelFor(pressed)); return }
    const c = ch.config
    const r = { refOhms: c.loop_ref_ohms, normalOhms: c.loop_normal_ohms, alarmOhms: c.loop_alarm_ohms, adcMax: c.adc_max }
    const w = this.wire.get(id)
    ch.analog(w === 'cut' ? c.adc_max : w === 'short' ? 0 : loopReading(pressed ? c.loop_alarm_ohms : c.loop_normal_ohms, r))
  }

  private after(ms: number, fn: () => void): void {
    const t = this.ctx.clock.setTimeout(() => { this.timers.delete(t); fn() }, ms)
    this.timers.add(t)
  }
}
