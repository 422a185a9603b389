/**
 * The one time source (DESIGN §4 "Inject time"). Debounce, hold-to-confirm,
 * supervision and retry read time only through a Clock, so tests drive them
 * with FakeClock and never sleep.
 */
export interface TimerHandle {
  /** Opaque; pass back to clearTimeout. */
  readonly __timer: unique symbol
}

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (what goes into payloads). */
  now(): number
  /** Monotonic milliseconds (never jumps with NTP); use for intervals and timeouts. */
  monotonic(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t as unknown as TimerHandle
  },
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
}

interface FakeTimer { at: number; fn: () => void; id: number }

/** Deterministic clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  private wall: number
  private mono = 0
  private timers: FakeTimer[] = []
  private nextId = 1

  constructor(startWallMs = Date.UTC(2026, 10, 24, 8, 0, 0)) {
    this.wall = startWallMs
  }

  now(): number { return this.wall }
  monotonic(): number { return this.mono }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.mono + Math.max(0, ms), fn, id: this.nextId++ }
    this.timers.push(timer)
    return timer as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as unknown as FakeTimer)
    if (i >= 0) this.timers.splice(i, 1)
  }

  /** Move time forward, firing due timers in order (timers set while firing also run if due). */
  advance(ms: number): void {
    const end = this.mono + ms
    for (;;) {
      let next: FakeTimer | undefined
      for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t
      if (!next) break
      this.timers.splice(this.timers.indexOf(next), 1)
      this.wall += next.at - this.mono
      this.mono = next.at
      next.fn()
    }
    this.wall += end - this.mono
    this.mono = end
  }

  pendingTimers(): number { return this.timers.length }
}
