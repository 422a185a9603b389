/**
 * Issue 14: the cost of the gateway's Prometheus metrics. (1) Minor GCs over
 * 1,000,000 latency observations after warm-up: our fixed-bucket histogram
 * (gateway/metrics/fixed-histogram.ts) against prom-client's Histogram, the
 * reason we keep our own. (2) The time one scrape of /metrics takes for a
 * gateway with three simulated devices (collect() reads the state on scrape).
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks'
import { Histogram, Registry } from 'prom-client'
import { FixedHistogram } from '../gateway/metrics/fixed-histogram.js'
import { testGateway } from '../test/harness/test-gateway.js'
import { machineLine } from './bench-stats.js'

const N = Number(process.argv[2] ?? 1_000_000)
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

function countScavenges(): { stop: () => number } {
  let n = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++
  })
  obs.observe({ entryTypes: ['gc'] })
  return { stop: () => { obs.disconnect(); return n } }
}

async function gcRun(label: string, observe: (v: number) => void): Promise<string> {
  for (let i = 0; i < 100_000; i++) observe((i % 1000) / 1000) // warm-up
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise((r) => setTimeout(r, 50))
  const gc = countScavenges()
  const t0 = performance.now()
  for (let i = 0; i < N; i++) observe((i % 1000) / 1000)
  const ms = performance.now() - t0
  await new Promise((r) => setTimeout(r, 50)) // let the observer deliver
  return `| ${label} | ${N.toLocaleString('en')} | ${gc.stop()} | ${((ms * 1e6) / N).toFixed(1)} |`
}

const ours = new FixedHistogram('bench_seconds', 'bench', BUCKETS)
const theirs = new Histogram({ name: 'bench_prom_seconds', help: 'bench', buckets: BUCKETS, registers: [new Registry()] })
const rows = [
  await gcRun('FixedHistogram.observe (ours)', (v) => ours.observe(v)),
  await gcRun('prom-client Histogram.observe', (v) => theirs.observe(v)),
]

const { gw, cleanup } = await testGateway()
await gw.start()
const port = gw.metricsServer!.address!.port
const times: number[] = []
let bytes = 0
for (let i = 0; i < 220; i++) {
  const t0 = performance.now()
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  if (i >= 20) times.push(performance.now() - t0)
  bytes = body.length
}
await cleanup()
times.sort((a, b) => a - b)
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2)

console.log(`## Metrics (issue 14): histogram allocation and scrape cost (bench/metrics.ts)

${machineLine()}. Command: \`node --import tsx --expose-gc bench/metrics.ts ${N}\`. Minor GCs counted with a PerformanceObserver
on \`gc\` entries over ${N.toLocaleString('en')} observations after 100,000 warm-up ones.

| histogram | observations | minor GCs | ns/observe |
|---|---:|---:|---:|
${rows.join('\n')}

One GET /metrics over HTTP on loopback, gateway with 3 simulated devices (${bytes} bytes of exposition), 200 scrapes after 20 warm-up:
p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${times[times.length - 1].toFixed(2)} ms. A scrape every 15 s costs the event loop about that once.`)
