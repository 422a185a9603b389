/**
 * Press-to-learn for `safehouse pair button` (issue 7 §2): which input did
 * the technician's press change? A pure state machine over an injected Clock
 * (tested with FakeClock); the command feeds it raw readings from the board.
 *
 * Every watched input has a committed state: a digital level (0/1), debounced
 * like the driver does (a new level must hold `settleMs`), or a supervised
 * loop's zone, classified by the driver's own LoopSupervisor (same
 * thresholds, hysteresis and settling as the gateway will use).
 *
 * The learning rule:
 * - baseline: the state each input settles in before the prompt is its rest
 *   state; an input that flaps during the baseline (a floating pin, a noisy
 *   loop) is ignored from then on, and so is one that chatters later;
 * - a press is a clean change away from rest and back (press and release),
 *   or one change that then holds `heldMs` (a latching or held button);
 * - a supervised loop counts only if it rests in the normal zone and goes
 *   through alarm (a loop going open or short is a wiring fault, not a press);
 * - if more than one input changed, nothing is learned: the technician is
 *   asked to press again (two pins wired together, a press that jolted a
 *   neighbouring loose wire).
 */
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import { LoopSupervisor, LoopZone, type LoopThresholds } from '../../devices/panic-button/loop-supervisor.js'

export interface LearnOptions {
  /** A new level must hold this long to count (the button's debounce_ms). */
  settleMs: number
  /** One change that holds this long counts as a press without a release. */
  heldMs: number
  /** More committed changes than this since the baseline = chatter: the input is ignored. */
  chatterChanges: number
  /** A loop whose readings spread more than this during the baseline is floating or noisy. */
  maxBaselineSpread: number
}

export const DEFAULT_LEARN: LearnOptions = { settleMs: 30, heldMs: 1500, chatterChanges: 6, maxBaselineSpread: 60 }

export class WatchedInput {
  /** Committed level (0/1) or LoopZone; -1 before the first reading has settled. */
  state = -1
  /** State at the end of the baseline; -1 = no reading then. */
  rest = -1
  /** Committed changes since the last baseline. */
  changes = 0
  /** Raw level flips since the last baseline, glitches included (digital only). */
  edges = 0
  /** The loop went through the alarm zone since the last baseline. */
  sawAlarm = false
  lastChangeMono = 0
  /** Why this input is no longer considered; '' = it is. */
  ignored = ''
  /** Latest raw reading (level or ADC count); -1 = none yet. */
  reading = -1
  minReading = Infinity
  maxReading = -Infinity

  constructor(readonly name: string, readonly analog: boolean, protected readonly learner: PressLearner) {}

  commit(state: number): void {
    if (state === this.state) return
    const first = this.state === -1
    this.state = state
    if (first) return
    this.changes++
    if (state === LoopZone.ALARM && this.analog) this.sawAlarm = true
    this.lastChangeMono = this.learner.clock.monotonic()
    this.learner.changed(this)
  }

  resetStats(): void {
    this.changes = 0
    this.edges = 0
    this.sawAlarm = false
    this.minReading = Infinity
    this.maxReading = -Infinity
  }

  dispose(): void {}
}

/** A digital pin: a level must hold settleMs to be committed. */
export class DigitalWatch extends WatchedInput {
  private raw = -1
  private timer: TimerHandle | null = null
  private readonly onSettle = (): void => { this.timer = null; this.commit(this.raw) }

  constructor(name: string, learner: PressLearner) { super(name, false, learner) }

  sample(level: number): void {
    this.reading = level
    if (level === this.raw) return
    const c = this.learner.clock
    if (this.raw !== -1) this.edges++
    this.raw = level
    if (this.timer !== null) { c.clearTimeout(this.timer); this.timer = null }
    if (this.state === -1 || this.learner.opts.settleMs <= 0) { this.commit(level); return }
    if (level === this.state) return // a glitch came back before it settled
    this.timer = c.setTimeout(this.onSettle, this.learner.opts.settleMs)
  }

  override dispose(): void {
    if (this.timer !== null) { this.learner.clock.clearTimeout(this.timer); this.timer = null }
  }
}

/** A supervised loop on an analog channel, classified by the driver's LoopSupervisor. */
export class AnalogWatch extends WatchedInput {
  readonly loop: LoopSupervisor

  constructor(name: string, learner: PressLearner, readonly thresholds: LoopThresholds) {
    super(name, true, learner)
    this.loop = new LoopSupervisor(thresholds, learner.clock, { loopZone: (zone) => this.commit(zone) })
  }

  sample(reading: number): void {
    this.reading = reading
    if (reading < this.minReading) this.minReading = reading
    if (reading > this.maxReading) this.maxReading = reading
    this.loop.sample(reading)
  }

  override dispose(): void { this.loop.dispose() }
}

export type Verdict =
  | { kind: 'waiting' }
  | { kind: 'learned'; input: WatchedInput; how: 'press and release' | 'held' }
  | { kind: 'several'; inputs: WatchedInput[] }

export class PressLearner {
  readonly inputs: WatchedInput[] = []
  /** Called on every committed change after the baseline (the command re-evaluates). */
  onChange: ((input: WatchedInput) => void) | null = null

  constructor(readonly clock: Clock, readonly opts: LearnOptions = DEFAULT_LEARN) {}

  digital(name: string): DigitalWatch {
    const w = new DigitalWatch(name, this)
    this.inputs.push(w)
    return w
  }

  analog(name: string, thresholds: LoopThresholds): AnalogWatch {
    const w = new AnalogWatch(name, this, thresholds)
    this.inputs.push(w)
    return w
  }

  /** Start a baseline window: forget the changes counted so far. */
  startBaseline(): void {
    for (const i of this.inputs) i.resetStats()
  }

  /**
   * End the baseline: what flapped during it is ignored from now on; every
   * other input's current state becomes its rest state.
   */
  arm(): void {
    for (const i of this.inputs) {
      if (i.ignored) continue
      if (i.changes > 2 || i.edges > 2 * this.opts.chatterChanges) i.ignored = 'kept changing while nothing was pressed (floating or chattering input)'
      else if (i.analog && i.maxReading - i.minReading > this.opts.maxBaselineSpread) {
        i.ignored = `readings wander (${i.minReading}..${i.maxReading}) while nothing is pressed: unconnected or noisy`
      }
      i.rest = i.state
      i.resetStats()
    }
  }

  changed(input: WatchedInput): void {
    if (!input.ignored && (input.changes > this.opts.chatterChanges || input.edges > 4 * this.opts.chatterChanges)) {
      input.ignored = `chatters (${input.changes} changes in a few seconds): check its wiring`
    }
    this.onChange?.(input)
  }

  /** Inputs that changed since the baseline and may be the button. */
  candidates(): WatchedInput[] {
    return this.inputs.filter((i) => !i.ignored && i.rest >= 0 && i.changes > 0 && (!i.analog || i.rest === LoopZone.NORMAL))
  }

  verdict(): Verdict {
    const changed = this.candidates()
    if (changed.length === 0) return { kind: 'waiting' }
    const now = this.clock.monotonic()
    const done = changed.filter((i) => {
      if (i.analog && !i.sawAlarm) return false
      if (i.changes >= 2 && i.state === i.rest) return true
      return i.state !== i.rest && now - i.lastChangeMono >= this.opts.heldMs
    })
    if (done.length === 0) return { kind: 'waiting' }
    if (changed.length > 1) return { kind: 'several', inputs: changed }
    const input = done[0]
    return { kind: 'learned', input, how: input.state === input.rest ? 'press and release' : 'held' }
  }

  /** Inputs ignored since the baseline, for the report. */
  ignoredInputs(): WatchedInput[] { return this.inputs.filter((i) => i.ignored) }

  dispose(): void {
    for (const i of this.inputs) i.dispose()
  }
}
