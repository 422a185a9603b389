/**
 * Press semantics for one button (issue 3 §2), a pure state machine over an
 * injected Clock: no I/O, tested with FakeClock.
 *
 * - debounce: a level counts only after it has been stable `debounceMs`; a
 *   glitch shorter than that leaves no trace.
 * - hold-to-confirm: with `holdMs` > 0 the alert fires the moment the contact
 *   has been closed `holdMs` (counted from the first edge, so the debounce is
 *   part of the hold, not added to it); releasing earlier raises nothing.
 * - press counting: with `pressCount` >= 2, the Nth confirmed press within
 *   `pressWindowMs` of the first also raises ESCALATION (value = count).
 * - stuck: a contact closed longer than `stuckMs` raises STUCK once; its
 *   release raises RESTORED (value = Kind.STUCK). Never a flood: no
 *   repeating timer while held (unlike johnny-five's Button "hold" interval).
 *
 * Hot path: sample() allocates nothing; timer callbacks are bound once.
 */
import type { Clock, TimerHandle } from '../time/clock.js'
import { Kind } from '../../protocols/event-kinds.js'

export interface PressOptions {
  debounceMs: number
  holdMs: number
  pressCount: number
  pressWindowMs: number
  stuckMs: number
  /** Kind raised by a confirmed press (Kind.PANIC, SILENT_HOLDUP, DURESS, TEST). */
  alertKind: number
}

/** Where detected events go (the button channel forwards them to the sink). */
export interface PressEvents {
  pressEvent(kind: number, value: number, hwTime: number): void
}

export class PressDetector {
  private raw = false
  /** Debounced level. */
  private stable = false
  private edgeMono = 0
  private edgeWall = 0
  private confirmed = false
  private stuckReported = false
  private windowStartMono = 0
  private pressesInWindow = 0
  private debounceTimer: TimerHandle | null = null
  private holdTimer: TimerHandle | null = null
  private stuckTimer: TimerHandle | null = null
  private readonly onDebounce = (): void => { this.debounceTimer = null; this.commit() }
  private readonly onHold = (): void => { this.holdTimer = null; this.confirm() }
  private readonly onStuck = (): void => { this.stuckTimer = null; this.stuck() }

  /** Presses released before hold_ms (counted, not alerted). */
  shortPresses = 0

  constructor(
    private readonly opts: PressOptions,
    private readonly clock: Clock,
    private readonly out: PressEvents,
  ) {}

  get pressed(): boolean { return this.stable }

  /**
   * A raw contact reading (true = pressed). Repeats of the same level are ignored.
   * `edgeMono`: when the contact changed, if that was before now (a Firmata level
   * is delivered once the board confirmed it, issue 11: the debounce and hold
   * count from the edge the board first reported, not from its confirmation).
   */
  sample(pressed: boolean, edgeMono = NaN): void {
    if (pressed === this.raw) return
    this.raw = pressed
    const now = this.clock.monotonic()
    const edge = edgeMono <= now ? edgeMono : now // NaN compares false: now
    this.edgeMono = edge
    this.edgeWall = this.clock.now() - (now - edge)
    if (this.debounceTimer !== null) { this.clock.clearTimeout(this.debounceTimer); this.debounceTimer = null }
    if (pressed === this.stable) return // a glitch came back before the debounce ran out
    const left = this.opts.debounceMs - (now - edge)
    if (left <= 0) this.commit()
    else this.debounceTimer = this.clock.setTimeout(this.onDebounce, left)
  }

  /**
   * The link to the button is gone (board unplugged, wire cut): drop pending
   * timers but keep the debounced level, so a contact that is still closed
   * when the link returns is not reported as a new press.
   */
  linkLost(): void {
    this.cancel()
    this.raw = this.stable
  }

  dispose(): void { this.cancel() }

  private cancel(): void {
    if (this.debounceTimer !== null) { this.clock.clearTimeout(this.debounceTimer); this.debounceTimer = null }
    if (this.holdTimer !== null) { this.clock.clearTimeout(this.holdTimer); this.holdTimer = null }
    if (this.stuckTimer !== null) { this.clock.clearTimeout(this.stuckTimer); this.stuckTimer = null }
  }

  private commit(): void {
    this.stable = this.raw
    const elapsed = this.clock.monotonic() - this.edgeMono
    if (this.stable) {
      this.confirmed = false
      this.stuckTimer = this.clock.setTimeout(this.onStuck, Math.max(0, this.opts.stuckMs - elapsed))
      if (this.opts.holdMs > 0 && this.opts.holdMs > elapsed) {
        this.holdTimer = this.clock.setTimeout(this.onHold, this.opts.holdMs - elapsed)
      } else {
        this.confirm()
      }
      return
    }
    if (this.holdTimer !== null) {
      this.clock.clearTimeout(this.holdTimer)
      this.holdTimer = null
      this.shortPresses++
    }
    if (this.stuckTimer !== null) { this.clock.clearTimeout(this.stuckTimer); this.stuckTimer = null }
    if (this.stuckReported) {
      this.stuckReported = false
      this.out.pressEvent(Kind.RESTORED, Kind.STUCK, this.edgeWall)
    }
    if (this.confirmed) {
      this.confirmed = false
      this.out.pressEvent(Kind.RELEASE, NaN, this.edgeWall)
    }
  }

  private confirm(): void {
    this.confirmed = true
    const o = this.opts
    if (o.pressCount < 2) {
      this.out.pressEvent(o.alertKind, 1, this.edgeWall)
      return
    }
    const now = this.clock.monotonic()
    if (this.pressesInWindow === 0 || now - this.windowStartMono > o.pressWindowMs) {
      this.windowStartMono = now
      this.pressesInWindow = 0
    }
    const n = ++this.pressesInWindow
    this.out.pressEvent(o.alertKind, n, this.edgeWall)
    if (n === o.pressCount) this.out.pressEvent(Kind.ESCALATION, n, this.edgeWall)
  }

  private stuck(): void {
    if (this.stuckReported) return
    this.stuckReported = true
    this.out.pressEvent(Kind.STUCK, NaN, this.clock.now())
  }
}
