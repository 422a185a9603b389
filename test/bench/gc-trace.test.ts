/**
 * Honest GC counts (issue 13 §3): the GC benchmarks (bench/core-gc.ts,
 * bench/clock-boxing.ts) count from V8's `--trace-gc` through
 * bench/gc-trace.ts. This test proves that reading against figures that do
 * not come from the trace: a window that allocates a known amount must read
 * as that many bytes (within -10/+15 %) (the heap statistics size one object independently)
 * with scavenges, the PerformanceObserver printed beside it must agree on the
 * count, and an allocation-free window must read as 0 scavenges and ~0 bytes.
 * A benchmark that under-reports (the observer once said 0 where the trace
 * showed 219 scavenges) fails here.
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { parseTraceWindow, runTraced } from '../../bench/gc-trace.js'

const fixture = fileURLToPath(new URL('./gc-trace-fixture.mjs', import.meta.url))
interface FixtureResult { bytesPerObject: number; minor: number; major: number }

t.test('the trace parser reads only the window between the last two forced GCs', async (t) => {
  const line = (ms: number, kind: string, before: number, after: number, reason: string) =>
    `[1:0x1]  ${ms} ms: ${kind} ${before} (5.0) -> ${after} (5.0) MB, 0.1 / 0.0 ms  (average mu = 1.000, current mu = 1.000) ${reason}`
  const trace = [
    line(1, 'Scavenge', 3.0, 2.0, 'allocation failure;'), // before the window: not counted
    line(2, 'Mark-Compact', 3.1, 2.6, 'testing; GC in old space requested'),
    line(3, 'Scavenge', 3.6, 2.6, 'allocation failure;'),
    line(4, 'Scavenge', 3.8, 2.8, 'allocation failure;'),
    line(5, 'Mark-Compact', 9.8, 4.0, 'allocation failure; GC in old space requested'),
    line(6, 'Mark-Compact', 4.5, 3.0, 'testing; GC in old space requested'),
  ].join('\n')
  const w = parseTraceWindow(trace)
  t.ok(w)
  t.equal(w!.scavenges, 2)
  t.equal(w!.fullGcs, 1)
  // Growth before each GC after the opening one: 1.0 + 1.2 + 7.0 + 0.5 MB.
  t.equal(Math.round(w!.allocatedBytes / 1024 / 1024 * 10), 97)
  t.equal(Math.round(w!.freedBytes / 1024 / 1024 * 10), 1.0 * 10 + 1.0 * 10 + 5.8 * 10)
  t.equal(parseTraceWindow(line(1, 'Mark-Compact', 3, 2, 'testing;')), null, 'one forced GC is no window')
})

t.test('a window that allocates ~160 MB reads as that much, with the observer agreeing on the count', async (t) => {
  const n = 80_000
  const r = await runTraced<FixtureResult>(fixture, ['alloc', String(n)])
  t.equal(r.code, 0, `the child exits 0${r.code ? `: ${r.stderr.slice(-500)}` : ''}`)
  t.ok(r.trace && r.result, 'a window and a result')
  const expected = n * r.result!.bytesPerObject
  // 254 slots of 8 bytes plus headers (~2,080 bytes; ~1,040 with pointer compression).
  t.ok(r.result!.bytesPerObject > 1000 && r.result!.bytesPerObject < 2200, `one 254-slot array: ${r.result!.bytesPerObject.toFixed(0)} bytes`)
  const ratio = r.trace!.allocatedBytes / expected
  t.ok(ratio > 0.9 && ratio < 1.15, `trace reads ${(r.trace!.allocatedBytes / 2 ** 20).toFixed(1)} MB for ${(expected / 2 ** 20).toFixed(1)} MB allocated (ratio ${ratio.toFixed(3)})`)
  t.ok(r.trace!.scavenges >= 5, `scavenges in the window: ${r.trace!.scavenges}`)
  t.equal(r.result!.minor, r.trace!.scavenges, 'the observer counts the same scavenges as the trace')
  t.equal(r.result!.major, r.trace!.fullGcs, 'and the same full GCs')
})

t.test('an allocation-free window reads as 0 scavenges and ~0 bytes', async (t) => {
  const r = await runTraced<FixtureResult>(fixture, ['none', '1000000'])
  t.equal(r.code, 0, `the child exits 0${r.code ? `: ${r.stderr.slice(-500)}` : ''}`)
  t.ok(r.trace, 'a window')
  t.equal(r.trace!.scavenges, 0)
  t.equal(r.trace!.fullGcs, 0)
  // The window's own 1,000 Immediates, its timer and the observer: under 2 bytes per event, where the
  // allocating window above reads ~2,000.
  t.ok(r.trace!.allocatedBytes <= 2 * 2 ** 20, `allocated ${(r.trace!.allocatedBytes / 2 ** 20).toFixed(1)} MB over 1,000,000 events`)
})
