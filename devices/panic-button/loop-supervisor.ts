/**
 * End-of-line supervised loop (issue 3 §3): an ADC reading becomes one of
 * four zones. Pure state machine over an injected Clock.
 *
 * Divider: the analog pin is pulled to the ADC reference by `refOhms` and to
 * GND by the field loop, so reading = adcMax * R_loop / (R_loop + R_ref).
 * A cut wire (R_loop -> infinity) reads near full scale, a short near 0.
 *
 * Anti-flap, two layers:
 * - hysteresis: leaving the current zone needs the reading to pass the
 *   threshold by `hysteresis` counts (a reading sitting on a threshold stays put);
 * - settling: the new zone must hold `settleMs` (the button's debounce_ms).
 */
import type { Clock, TimerHandle } from '../time/clock.js'

export const LoopZone = { SHORT: 0, NORMAL: 1, ALARM: 2, OPEN: 3 } as const
export type LoopZone = (typeof LoopZone)[keyof typeof LoopZone]
export const LOOP_ZONE_NAMES = ['short', 'normal', 'alarm', 'open'] as const

export interface LoopThresholds {
  /** Below: short (tamper). */
  shortBelow: number
  /** At/above: alarm (pressed). */
  alarmAbove: number
  /** At/above: open circuit (cut wire). */
  openAbove: number
  hysteresis: number
  settleMs: number
}

export interface LoopResistors {
  refOhms: number
  normalOhms: number
  alarmOhms: number
  adcMax: number
}

/** Expected ADC reading for a loop resistance. */
export function loopReading(loopOhms: number, r: LoopResistors): number {
  return Math.round((r.adcMax * loopOhms) / (loopOhms + r.refOhms))
}

export type ThresholdResult = { ok: true; value: LoopThresholds } | { ok: false; error: string }

/**
 * Thresholds at the midpoints between expected readings (0 overrides = computed),
 * checked so each expected reading sits clear of its neighbouring thresholds by more than the hysteresis.
 */
export function loopThresholds(
  r: LoopResistors,
  over: { shortBelow: number; alarmAbove: number; openAbove: number },
  hysteresis: number,
  settleMs: number,
): ThresholdResult {
  const normal = loopReading(r.normalOhms, r)
  const alarm = loopReading(r.alarmOhms, r)
  const shortBelow = over.shortBelow || Math.round(normal / 2)
  const alarmAbove = over.alarmAbove || Math.round((normal + alarm) / 2)
  const openAbove = over.openAbove || Math.round((alarm + r.adcMax) / 2)
  // each expected reading must sit clear of the thresholds around it by more
  // than the hysteresis, or a healthy loop could never leave a zone
  const h = hysteresis
  const clear = shortBelow + h < normal && normal + h < alarmAbove && alarmAbove + h <= alarm && alarm + h < openAbove && openAbove <= r.adcMax
  if (!clear) {
    return {
      ok: false,
      error: `loop thresholds short<${shortBelow}, alarm>=${alarmAbove}, open>=${openAbove} (normal reads ~${normal}, alarm ~${alarm}) ` +
        `are not increasing with room for hysteresis ${hysteresis} within 0..${r.adcMax}: check loop_*_ohms, adc_max and loop_* thresholds`,
    }
  }
  return { ok: true, value: { shortBelow, alarmAbove, openAbove, hysteresis, settleMs } }
}

export interface LoopEvents {
  loopZone(zone: LoopZone, previous: LoopZone | -1, reading: number, hwTime: number): void
}

export class LoopSupervisor {
  private zone: LoopZone | -1 = -1
  private candidate: LoopZone | -1 = -1
  private candidateWall = 0
  private lastReading = 0
  private timer: TimerHandle | null = null
  private readonly onSettle = (): void => { this.timer = null; this.commit() }

  constructor(
    private readonly th: LoopThresholds,
    private readonly clock: Clock,
    private readonly out: LoopEvents,
  ) {}

  get current(): LoopZone | -1 { return this.zone }

  classify(reading: number): LoopZone {
    const t = this.th
    if (reading < t.shortBelow) return LoopZone.SHORT
    if (reading >= t.openAbove) return LoopZone.OPEN
    if (reading >= t.alarmAbove) return LoopZone.ALARM
    return LoopZone.NORMAL
  }

  /** One ADC reading (Firmata reports one per sampling interval). */
  sample(reading: number): void {
    this.lastReading = reading
    const cur = this.zone
    let next: LoopZone | -1 = cur
    if (cur === -1) {
      next = this.classify(reading)
    } else {
      const h = this.th.hysteresis
      const up = this.classify(reading - h)
      const down = this.classify(reading + h)
      if (up > cur) next = up
      else if (down < cur) next = down
    }
    if (next === cur) {
      // back in the current zone: forget an unsettled candidate
      if (this.timer !== null) { this.clock.clearTimeout(this.timer); this.timer = null }
      this.candidate = -1
      return
    }
    if (next === this.candidate) return // settling already
    this.candidate = next
    this.candidateWall = this.clock.now()
    if (this.timer !== null) { this.clock.clearTimeout(this.timer); this.timer = null }
    if (this.th.settleMs <= 0) this.commit()
    else this.timer = this.clock.setTimeout(this.onSettle, this.th.settleMs)
  }

  /** Link gone: the next reading starts fresh but keeps the last committed zone. */
  linkLost(): void {
    if (this.timer !== null) { this.clock.clearTimeout(this.timer); this.timer = null }
    this.candidate = -1
  }

  dispose(): void { this.linkLost() }

  private commit(): void {
    const prev = this.zone
    const next = this.candidate
    this.candidate = -1
    if (next === -1 || next === prev) return
    this.zone = next
    this.out.loopZone(next, prev, this.lastReading, this.candidateWall)
  }
}
