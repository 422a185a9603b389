/**
 * Discovery watchdog (issue 4 §5): BlueZ discovery is known to stop silently
 * after hours (controller firmware hiccups, another tool resetting the
 * adapter, a lost mgmt event). When no advertisement at all arrives for
 * `silenceMs` while BLE devices are expected, escalate one step every
 * `stepMs`:
 *
 *   1. restart discovery (StopDiscovery + filter + StartDiscovery)
 *   2. power-cycle the adapter (Powered false -> true, then discovery again)
 *   3. raise a gateway trouble alert, and power-cycle again
 *   then keep power-cycling every `silenceMs`, without further alerts.
 *
 * With `escalate: false` (no configured device is expected to advertise on
 * its own: press-only buttons, issue 11 §7) silence is normal at a quiet post:
 * the watchdog only restarts discovery, once per `silenceMs` of silence, and
 * never power-cycles the adapter or raises trouble.
 *
 * Any advertisement resets it; if the trouble alert was raised, `restored()`
 * reports the recovery. Pure state machine over the injected Clock, so it is
 * tested with FakeClock. kick() is on the hot path: one monotonic read and a
 * compare, no timer churn (the timer re-arms itself lazily).
 */
import type { Clock, TimerHandle } from '../time/clock.js'

export interface WatchdogActions {
  restartDiscovery(): Promise<void>
  powerCycle(): Promise<void>
  /** Raise the trouble alert (called once per silent episode). */
  trouble(silentMs: number): void
  /** Advertisements flow again after trouble() was raised. */
  restored(): void
  /** An action failed (logged by the owner; the next step still comes). */
  actionFailed(step: WatchdogStep, e: unknown): void
}

export interface WatchdogOptions {
  /** 0 disables the watchdog. */
  silenceMs: number
  stepMs: number
  /** false: only restart discovery on silence (see above). Default true. */
  escalate?: boolean
}

export const WatchdogStep = { OK: 0, RESTARTED: 1, POWER_CYCLED: 2, TROUBLE: 3 } as const
export type WatchdogStep = (typeof WatchdogStep)[keyof typeof WatchdogStep]

export class DiscoveryWatchdog {
  private lastAdvert = 0
  private step: WatchdogStep = WatchdogStep.OK
  private timer: TimerHandle | null = null
  private running = false
  /** Counts for tests and status output. */
  readonly counts = { restarts: 0, powerCycles: 0, troubles: 0, restores: 0 }

  constructor(
    private readonly clock: Clock,
    private readonly options: WatchdogOptions,
    private readonly actions: WatchdogActions,
  ) {}

  get currentStep(): WatchdogStep { return this.step }

  start(): void {
    if (this.running || this.options.silenceMs <= 0) return
    this.running = true
    this.step = WatchdogStep.OK
    this.lastAdvert = this.clock.monotonic()
    this.arm(this.options.silenceMs)
  }

  stop(): void {
    this.running = false
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
  }

  /** An advertisement arrived (hot path). */
  kick(): void {
    this.lastAdvert = this.clock.monotonic()
    if (this.step !== WatchdogStep.OK) this.recover()
  }

  private recover(): void {
    const wasTrouble = this.step === WatchdogStep.TROUBLE
    this.step = WatchdogStep.OK
    if (wasTrouble) {
      this.counts.restores++
      this.actions.restored()
    }
    // The pending timer (stepMs or silenceMs away) re-checks quiet time itself.
  }

  private arm(ms: number): void {
    if (!this.running) return
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(1, ms))
  }

  private readonly onTimer = (): void => {
    this.timer = null
    if (!this.running) return
    const quiet = this.clock.monotonic() - this.lastAdvert
    if (this.step === WatchdogStep.OK && quiet < this.options.silenceMs) {
      this.arm(this.options.silenceMs - quiet)
      return
    }
    this.escalate(quiet)
  }

  private escalate(quiet: number): void {
    if (this.options.escalate === false) {
      // Quiet post, nothing expected: the cheap remedy for a discovery that stopped silently,
      // then wait another full silence period (an advert in between resets it).
      this.step = WatchdogStep.RESTARTED
      this.counts.restarts++
      this.run(WatchdogStep.RESTARTED, this.actions.restartDiscovery)
      this.lastAdvert = this.clock.monotonic()
      this.arm(this.options.silenceMs)
      return
    }
    switch (this.step) {
      case WatchdogStep.OK:
        this.step = WatchdogStep.RESTARTED
        this.counts.restarts++
        this.run(WatchdogStep.RESTARTED, this.actions.restartDiscovery)
        this.arm(this.options.stepMs)
        return
      case WatchdogStep.RESTARTED:
        this.step = WatchdogStep.POWER_CYCLED
        this.counts.powerCycles++
        this.run(WatchdogStep.POWER_CYCLED, this.actions.powerCycle)
        this.arm(this.options.stepMs)
        return
      case WatchdogStep.POWER_CYCLED:
        this.step = WatchdogStep.TROUBLE
        this.counts.troubles++
        this.actions.trouble(quiet)
        this.counts.powerCycles++
        this.run(WatchdogStep.TROUBLE, this.actions.powerCycle)
        this.arm(this.options.silenceMs)
        return
      default:
        this.counts.powerCycles++
        this.run(WatchdogStep.TROUBLE, this.actions.powerCycle)
        this.arm(this.options.silenceMs)
    }
  }

  private run(step: WatchdogStep, action: () => Promise<void>): void {
    action.call(this.actions).catch((e: unknown) => this.actions.actionFailed(step, e))
  }
}
