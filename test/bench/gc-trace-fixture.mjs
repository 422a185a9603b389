/**
 * The child of test/bench/gc-trace.test.ts: a measured window with a known
 * allocation, bracketed by two forced GCs the way bench/core-gc-rows.ts
 * brackets its rows, so the test can check what bench/gc-trace.ts reads from
 * `--trace-gc` against an independent figure (issue 13 §3).
 *
 *   node --expose-gc --trace-gc gc-trace-fixture.mjs alloc|none N
 */
import { PerformanceObserver, constants } from 'node:perf_hooks'

const [mode, nArg] = process.argv.slice(2)
const n = Number(nArg)
const gc = globalThis.gc
const make = () => new Array(254).fill(0)

// Independent size of one object: heapUsed growth of 10,000 retained ones between forced GCs.
gc()
const h0 = process.memoryUsage().heapUsed
const kept = Array.from({ length: 10_000 }, make)
gc()
const bytesPerObject = (process.memoryUsage().heapUsed - h0 - 10_000 * 4) / kept.length
kept.length = 0

let minor = 0
let major = 0
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = e.detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
  }
})

let sink = 0
let last = null
gc()
obs.observe({ entryTypes: ['gc'] })
// Slices chained with setImmediate, as the bench rows drive, so the observer's entries are delivered.
let done = 0
await new Promise((resolve) => {
  const slice = () => {
    for (let i = 0; i < 1000 && done < n; i++, done++) {
      if (mode === 'alloc') last = make()
      else sink = (sink + done * 7) | 0
    }
    if (done < n) setImmediate(slice)
    else resolve()
  }
  slice()
})
await new Promise((r) => setTimeout(r, 200)) // let the observer deliver
obs.disconnect()
gc()
process.stderr.write(`#RESULT ${JSON.stringify({ bytesPerObject, minor, major, sink, kept: last?.length ?? 0 })}\n`)
