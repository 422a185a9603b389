/**
 * One hashed timer wheel drives all supervision (DESIGN §4): thousands of
 * per-device deadlines cost one clock timer, and re-arming a deadline on each
 * heartbeat is O(1) and allocation-free (timers are long-lived objects that
 * move between slot lists, no closures per arm).
 *
 * Resolution is one tick: a timer fires between `delay` and `delay + tick`
 * after it was armed; the documented bounds (e.g. "missing within its interval
 * plus one tick") come from this.
 */
import type { Clock, TimerHandle } from '../../devices/time/clock.js'

export interface WheelTarget {
  onTimer(timer: WheelTimer, nowMono: number): void
}

export class WheelTimer {
  /** Monotonic ms deadline; NaN while not armed. */
  deadline = NaN
  /** @internal slot list links */
  prev: WheelTimer | null = null
  next: WheelTimer | null = null
  slot = -1
  /** @internal due list link during a tick */
  dueNext: WheelTimer | null = null
  constructor(readonly target: WheelTarget, readonly tag: number = 0) {}
  get armed(): boolean { return this.slot >= 0 }
}

export class TimerWheel {
  private readonly slots: (WheelTimer | null)[]
  private cursor = 0
  private lastTick: number
  private handle: TimerHandle | null = null
  private running = false
  private readonly boundTick = (): void => this.tick()

  constructor(private readonly clock: Clock, readonly tickMs = 250, slotCount = 512) {
    this.slots = new Array<WheelTimer | null>(slotCount).fill(null)
    this.lastTick = clock.monotonic()
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.lastTick = this.clock.monotonic()
    this.handle = this.clock.setTimeout(this.boundTick, this.tickMs)
  }

  stop(): void {
    this.running = false
    if (this.handle) this.clock.clearTimeout(this.handle)
    this.handle = null
  }

  /** (Re-)arm `timer` to fire `delayMs` from now. */
  arm(timer: WheelTimer, delayMs: number): void {
    if (timer.slot >= 0) this.unlink(timer)
    timer.deadline = this.clock.monotonic() + delayMs
    // Count ticks from the time the cursor's slot stands for (lastTick), not from now: now is
    // up to a tick later, and counting from it put a timer one slot early (fired before its
    // delay) or, when it then was not yet due, left it in the slot for a whole lap.
    const ticks = Math.max(1, Math.ceil((timer.deadline - this.lastTick) / this.tickMs))
    const slot = (this.cursor + ticks) % this.slots.length
    timer.slot = slot
    timer.prev = null
    timer.next = this.slots[slot]
    if (timer.next) timer.next.prev = timer
    this.slots[slot] = timer
  }

  cancel(timer: WheelTimer): void {
    if (timer.slot >= 0) this.unlink(timer)
    timer.deadline = NaN
  }

  private unlink(t: WheelTimer): void {
    if (t.prev) t.prev.next = t.next
    else this.slots[t.slot] = t.next
    if (t.next) t.next.prev = t.prev
    t.prev = t.next = null
    t.slot = -1
  }

  /** Advance one slot per elapsed tick, firing due timers; timers whose deadline is a lap away stay. */
  private tick(): void {
    const now = this.clock.monotonic()
    let steps = Math.max(1, Math.floor((now - this.lastTick) / this.tickMs))
    if (steps > this.slots.length) steps = this.slots.length
    for (let s = 0; s < steps; s++) {
      // lastTick moves with the cursor, so a callback below that re-arms counts from this slot.
      this.lastTick += this.tickMs
      this.cursor = (this.cursor + 1) % this.slots.length
      // Pass 1: split the slot's list into "due" (chained through dueNext)
      // and "not due this lap" (relinked), so callbacks in pass 2 may re-arm
      // or cancel any timer without corrupting the walk.
      let t = this.slots[this.cursor]
      this.slots[this.cursor] = null
      let due: WheelTimer | null = null
      while (t) {
        const next = t.next
        t.prev = t.next = null
        t.slot = -1
        if (t.deadline <= now + this.tickMs / 2) {
          t.dueNext = due
          due = t
        } else {
          t.slot = this.cursor
          t.next = this.slots[this.cursor]
          if (t.next) t.next.prev = t
          this.slots[this.cursor] = t
        }
        t = next
      }
      // Pass 2: fire; a timer re-armed by an earlier callback is skipped.
      while (due) {
        const next: WheelTimer | null = due.dueNext
        due.dueNext = null
        if (due.slot < 0 && !Number.isNaN(due.deadline)) {
          due.deadline = NaN
          due.target.onTimer(due, now)
        }
        due = next
      }
    }
    if (this.running) this.handle = this.clock.setTimeout(this.boundTick, Math.max(1, this.lastTick + this.tickMs - this.clock.monotonic()))
  }
}
