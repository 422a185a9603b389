import t from 'tap'
import { Backoff } from '../../../devices/time/backoff.js'

const fixed = (r: number) => (): number => r

t.test('doubling up to the cap: the bounds of each attempt', async (t) => {
  const lo = new Backoff(500, 30000, fixed(0))
  const hi = new Backoff(500, 30000, fixed(0.999999))
  const bases = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
  for (const [i, base] of bases.entries()) {
    t.equal(lo.next(), base / 2, `attempt ${i}: lowest is base/2 = ${base / 2}`)
    t.equal(hi.next(), base, `attempt ${i}: highest is base = ${base}`)
  }
  t.equal(lo.attempts, bases.length)
})

t.test('jitter stays within [base/2, base] and actually spreads', async (t) => {
  let seed = 42
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  for (let attempt = 0; attempt < 12; attempt++) {
    const base = Math.min(30000, 500 * 2 ** attempt)
    const seen = new Set<number>()
    for (let run = 0; run < 200; run++) {
      const b = new Backoff(500, 30000, rnd)
      for (let i = 0; i < attempt; i++) b.next()
      const d = b.next()
      if (d < base / 2 || d > base) t.fail(`attempt ${attempt}: ${d} outside [${base / 2}, ${base}]`)
      seen.add(d)
    }
    t.ok(seen.size > 50, `attempt ${attempt}: ${seen.size} distinct delays of 200 (posts do not reconnect in lockstep)`)
  }
  t.ok(Number.isInteger(new Backoff(3, 100, rnd).next()), 'whole milliseconds')
})

t.test('the default random source works and stays in bounds', async (t) => {
  const b = new Backoff(100, 1000)
  for (let i = 0; i < 50; i++) {
    const d = b.next()
    const base = Math.min(1000, 100 * 2 ** i)
    t.ok(d >= base / 2 && d <= base, `attempt ${i}: ${d}`)
  }
})

t.test('reset starts over', async (t) => {
  const b = new Backoff(500, 30000, fixed(0.999999))
  for (let i = 0; i < 5; i++) b.next()
  t.equal(b.attempts, 5)
  b.reset()
  t.equal(b.attempts, 0)
  t.equal(b.next(), 500)
  t.equal(b.next(), 1000)
})

t.test('a very long outage never overflows', async (t) => {
  const b = new Backoff(500, 30000, fixed(0.5))
  let d = 0
  for (let i = 0; i < 10_000; i++) d = b.next()
  t.equal(d, 22500)
  t.equal(b.attempts, 10_000)
})

t.test('initial equal to max is a fixed (jittered) delay', async (t) => {
  const b = new Backoff(1000, 1000, fixed(0))
  t.same([b.next(), b.next(), b.next()], [500, 500, 500])
})
