import t from 'tap'
import { FakeClock, type Clock, type TimerHandle } from '../../../devices/time/clock.js'
import { TimerWheel, WheelTimer, type WheelTarget } from '../../../gateway/core/timer-wheel.js'

const TICK = 100
const SLOTS = 16 // one lap = 1600 ms: small, so laps are cheap to test

/** Records (tag, fire time); an optional hook runs inside the callback. */
class Recorder implements WheelTarget {
  readonly fired: Array<[number, number]> = []
  hook: ((timer: WheelTimer, now: number) => void) | null = null
  onTimer(timer: WheelTimer, now: number): void {
    this.fired.push([timer.tag, now])
    this.hook?.(timer, now)
  }
  times(tag: number): number[] { return this.fired.filter(([g]) => g === tag).map(([, at]) => at) }
}

function setup(): { clock: FakeClock; wheel: TimerWheel; rec: Recorder } {
  const clock = new FakeClock()
  const wheel = new TimerWheel(clock, TICK, SLOTS)
  wheel.start()
  return { clock, wheel, rec: new Recorder() }
}

t.test('fires once within [delay, delay + tick], whatever the phase within a tick', async (t) => {
  const delays = [0, 1, 50, 99, 100, 101, 250, 1000, 1500, 1599, 1600, 1601, 2500, 5000, 3 * 1600 + 7]
  const phases = [0, 1, 37, 50, 51, 99]
  for (const phase of phases) {
    for (const delay of delays) {
      const { clock, wheel, rec } = setup()
      clock.advance(3 * TICK + phase) // arm mid-tick, after a few ticks have run
      const armedAt = clock.monotonic()
      const timer = new WheelTimer(rec, 1)
      wheel.arm(timer, delay)
      t.ok(timer.armed)
      clock.advance(delay + 3 * TICK)
      const fired = rec.times(1)
      const ok = fired.length === 1 && fired[0] >= armedAt + delay && fired[0] <= armedAt + delay + TICK
      t.ok(ok, `phase ${phase}, delay ${delay}: armed at ${armedAt}, fired at [${fired.join(', ')}]`)
      t.notOk(timer.armed, 'not armed after firing')
      t.ok(Number.isNaN(timer.deadline))
      wheel.stop()
    }
  }
})

t.test('re-arming postpones', async (t) => {
  const { clock, wheel, rec } = setup()
  const timer = new WheelTimer(rec, 7)
  wheel.arm(timer, 500)
  for (let i = 0; i < 10; i++) { // a heartbeat every 300 ms keeps it from firing
    clock.advance(300)
    wheel.arm(timer, 500)
  }
  t.same(rec.fired, [], 'never fires while re-armed in time')
  const last = clock.monotonic()
  clock.advance(2000)
  t.equal(rec.fired.length, 1)
  t.ok(rec.fired[0][1] >= last + 500 && rec.fired[0][1] <= last + 500 + TICK, `fired at ${rec.fired[0][1]}`)
  wheel.arm(timer, 200)
  wheel.arm(timer, 1000) // earlier deadline replaced, not added
  const at = clock.monotonic()
  clock.advance(3000)
  t.same(rec.times(7).slice(1).map((x) => x - at >= 1000 && x - at <= 1100), [true])
})

t.test('cancel', async (t) => {
  const { clock, wheel, rec } = setup()
  const a = new WheelTimer(rec, 1)
  const b = new WheelTimer(rec, 2)
  const c = new WheelTimer(rec, 3)
  for (const x of [a, b, c]) wheel.arm(x, 250) // same slot: cancel the middle of the list
  wheel.cancel(b)
  t.notOk(b.armed)
  wheel.cancel(b) // idempotent
  wheel.cancel(new WheelTimer(rec, 9)) // never armed: harmless
  clock.advance(1000)
  t.same(rec.fired.map(([g]) => g).sort(), [1, 3])
  wheel.arm(b, 100)
  clock.advance(1000)
  t.same(rec.times(2).length, 1, 'a cancelled timer can be armed again')
})

t.test('many timers: each fires exactly once per arming, on time', async (t) => {
  const { clock, wheel, rec } = setup()
  let seed = 12345
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  const timers: WheelTimer[] = []
  const due: number[][] = [] // per timer: the deadlines it must fire at, in order
  const arm = (i: number, delay: number): void => {
    if (timers[i].armed) due[i].pop() // re-arming replaces the pending deadline
    wheel.arm(timers[i], delay)
    due[i].push(clock.monotonic() + delay)
  }
  for (let i = 0; i < 2000; i++) {
    clock.advance(Math.floor(rnd() * 7)) // earlier timers fire meanwhile
    timers.push(new WheelTimer(rec, i))
    due.push([])
    arm(i, Math.floor(rnd() * 4 * SLOTS * TICK))
  }
  for (let i = 0; i < timers.length; i += 10) {
    if (timers[i].armed) due[i].pop()
    wheel.cancel(timers[i])
  }
  for (let i = 3; i < timers.length; i += 7) arm(i, 777)
  clock.advance(5 * SLOTS * TICK)
  let bad = 0
  for (let i = 0; i < timers.length; i++) {
    const at = rec.times(i)
    const ok = at.length === due[i].length && at.every((x, k) => x >= due[i][k] && x <= due[i][k] + TICK)
    if (!ok && ++bad < 5) t.fail(`timer ${i}: due [${due[i].join(', ')}], fired at [${at.join(', ')}]`)
  }
  t.equal(bad, 0, 'all 2000 timers right')
  t.ok(rec.fired.length > 2000, `${rec.fired.length} fires`)
})

t.test('callbacks may re-arm or cancel other timers during a tick (two-pass walk)', async (t) => {
  t.test('cancel a timer that is due in the same slot', async (t) => {
    const { clock, wheel, rec } = setup()
    const ts = [1, 2, 3, 4].map((g) => new WheelTimer(rec, g))
    for (const x of ts) wheel.arm(x, 300)
    rec.hook = (timer) => { for (const x of ts) if (x !== timer) wheel.cancel(x) } // the first to fire cancels the rest
    clock.advance(1000)
    t.equal(rec.fired.length, 1, 'only the first fired')
    t.ok(ts.every((x) => !x.armed))
  })

  t.test('re-arm a timer that is due in the same slot: it fires at its new time only', async (t) => {
    const { clock, wheel, rec } = setup()
    const ts = [1, 2, 3].map((g) => new WheelTimer(rec, g))
    for (const x of ts) wheel.arm(x, 300)
    let first = -1
    rec.hook = (timer, now) => {
      if (first >= 0) return
      first = timer.tag
      for (const x of ts) if (x !== timer) wheel.arm(x, 1000)
      t.equal(now, clock.monotonic())
    }
    clock.advance(3000)
    for (const x of ts) {
      const at = rec.times(x.tag)
      t.equal(at.length, 1, `timer ${x.tag} fired once`)
      if (x.tag !== first) t.ok(at[0] >= rec.times(first)[0] + 1000 && at[0] <= rec.times(first)[0] + 1000 + TICK, `timer ${x.tag} at ${at[0]}`)
    }
  })

  t.test('cancel a timer in the same slot that is a lap away (relinked in pass 1)', async (t) => {
    const { clock, wheel, rec } = setup()
    const due = new WheelTimer(rec, 1)
    const lapAway = new WheelTimer(rec, 2)
    const lapAway2 = new WheelTimer(rec, 3)
    wheel.arm(lapAway, 300 + SLOTS * TICK) // same slot as `due`, one lap later
    wheel.arm(due, 300)
    wheel.arm(lapAway2, 300 + SLOTS * TICK)
    rec.hook = (timer) => { if (timer === due) wheel.cancel(lapAway) }
    clock.advance(3 * SLOTS * TICK)
    t.same(rec.times(1).length, 1)
    t.same(rec.times(2), [], 'cancelled while waiting for its lap')
    t.same(rec.times(3).length, 1, 'its neighbour in the slot list is intact and fires')
  })

  t.test('a callback that re-arms itself runs periodically', async (t) => {
    const { clock, wheel, rec } = setup()
    const p = new WheelTimer(rec, 5)
    rec.hook = (timer) => { if (timer === p && rec.times(5).length < 10) wheel.arm(p, 250) }
    wheel.arm(p, 250)
    clock.advance(10_000)
    const at = rec.times(5)
    t.equal(at.length, 10)
    for (let i = 1; i < at.length; i++) t.ok(at[i] - at[i - 1] >= 250 && at[i] - at[i - 1] <= 250 + TICK, `period ${at[i] - at[i - 1]}`)
  })

  t.test('a callback arms a new timer for the next tick', async (t) => {
    const { clock, wheel, rec } = setup()
    const a = new WheelTimer(rec, 1)
    const b = new WheelTimer(rec, 2)
    rec.hook = (timer) => { if (timer === a) wheel.arm(b, 1) }
    wheel.arm(a, 100)
    clock.advance(1000)
    const [fa] = rec.times(1)
    const [fb] = rec.times(2)
    t.ok(fb >= fa + 1 && fb <= fa + 1 + TICK, `b ${fb} after a ${fa}`)
  })
})

/** A clock whose single pending timer fires only when the test says (to model a stalled event loop). */
class StallClock implements Clock {
  mono = 0
  pending: (() => void) | null = null
  now(): number { return this.mono }
  monotonic(): number { return this.mono }
  setTimeout(fn: () => void): TimerHandle { this.pending = fn; return {} as TimerHandle }
  clearTimeout(): void { this.pending = null }
  /** Jump time, then run the pending tick (late by whatever the jump exceeds its delay). */
  stall(ms: number): void { this.mono += ms; const fn = this.pending; this.pending = null; fn?.() }
}

t.test('a late tick (stalled event loop) catches up: overdue timers fire, none early, none a lap late', async (t) => {
  const clock = new StallClock()
  const wheel = new TimerWheel(clock, TICK, SLOTS)
  wheel.start()
  const rec = new Recorder()
  const ts = [150, 420, 900, 2000, 2600].map((d, i) => { const x = new WheelTimer(rec, i); wheel.arm(x, d); return { x, d } })
  const reArmed = new WheelTimer(rec, 99)
  rec.hook = (timer, now) => { if (timer.tag === 0) wheel.arm(reArmed, 300) } // armed in the middle of a catch-up
  clock.stall(1000) // one late tick covering 10 ticks
  t.same(rec.fired.map(([g]) => g), [0, 1, 2], 'the three overdue timers fired')
  t.ok(rec.fired.every(([, at]) => at === 1000))
  for (let i = 0; i < 40; i++) clock.stall(TICK)
  t.same(rec.times(3).length, 1)
  t.ok(rec.times(3)[0] >= 2000 && rec.times(3)[0] <= 2000 + TICK, `2000 fired at ${rec.times(3)[0]}`)
  t.ok(rec.times(4)[0] >= 2600 && rec.times(4)[0] <= 2600 + TICK, `2600 fired at ${rec.times(4)[0]}`)
  const r = rec.times(99)
  t.equal(r.length, 1, 'the timer re-armed during catch-up fired')
  t.ok(r[0] >= 1300 && r[0] <= 1300 + TICK, `re-armed at 1000 for 300: fired at ${r[0]}`)
  wheel.stop()
  t.equal(clock.pending, null, 'stop clears the clock timer')
})

t.test('stop stops ticking', async (t) => {
  const { clock, wheel, rec } = setup()
  wheel.arm(new WheelTimer(rec, 1), 200)
  wheel.stop()
  t.equal(clock.pendingTimers(), 0)
  clock.advance(1000)
  t.same(rec.fired, [])
  wheel.start()
  wheel.start() // idempotent: one clock timer
  t.equal(clock.pendingTimers(), 1)
  clock.advance(3000)
  t.equal(rec.fired.length, 1, 'fires after a restart')
  wheel.stop()
})
