/**
 * Allocation where drivers call in (issue 2 §12a, issue 13 §2 and §3):
 * scavenges, full GCs and bytes allocated per event after warm-up, each row
 * in its own child process run with `--trace-gc` (bench/gc-trace.ts), the
 * counts read from V8's trace. A PerformanceObserver count is printed beside
 * it; where the two disagree, the trace is the figure.
 * test/bench/gc-trace.test.ts proves the trace reading against a known
 * allocation (and the observer against the trace) on every `npm test`.
 *
 * Every input carries a fresh `clock.now()` read in the driver's loop, as
 * the drivers do (a bench with one precomputed timestamp hid the cost of the
 * clock read and the hand-off). Rows:
 *   state    state events (battery) -> core -> state tracker + counting sink
 *   alerts   distinct alerts (new packet id each) -> core -> encode -> counting sink
 *   repeats  repeated advertisement (same packet id) -> dropped by dedupe
 *   ble      BlueZ PropertiesChanged values -> BluezAdvertStream -> WhistleReceiver
 *            (BTHome decode, dedupe) -> core -> state tracker: the production transport,
 *            fed the objects dbus-next would have unmarshalled (built once, reused)
 *   gate     as `state`, through the roll-call gate the gateway hands its drivers (issue 15), with
 *            one input in 8 a repeated check-in press (counted, not sent)
 *   aedes    distinct alerts -> core -> encode -> in-process aedes publish
 *
 *   node --import tsx bench/core-gc.ts [N]        parent: runs every row, prints Markdown
 *   node ... --trace-gc bench/core-gc.ts --row NAME N   one row (what the parent spawns)
 */
import { fileURLToPath } from 'node:url'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { load1, machineLine } from './bench-stats.js'
import { runTraced } from './gc-trace.js'

const ROWS = ['state', 'alerts', 'repeats', 'ble', 'gate', 'aedes'] as const
type Row = typeof ROWS[number]
const LABEL: Record<Row, string> = {
  state: 'state events: driver loop (fresh clock.now()) -> core -> state tracker',
  alerts: 'distinct alerts: driver loop (fresh clock.now()) -> core -> encode -> counting sink',
  repeats: 'repeated advertisement (same packet id): dropped by dedupe',
  ble: 'BLE adverts: BlueZ signal values -> BluezAdvertStream -> WhistleReceiver -> core',
  aedes: 'distinct alerts -> core -> encode -> aedes in-process publish',
  gate: 'state events + repeated check-ins (1 in 8) -> roll-call gate (issue 15) -> core -> state tracker',
}

interface RowResult { events: number; ms: number; observerMinor: number; observerMajor: number; alerts: number }

if (process.argv[2] === '--row') {
  const { runRow } = await import('./core-gc-rows.js')
  const row = process.argv[3] as Row
  const n = Number(process.argv[4])
  let minor = 0
  let major = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
    }
  })
  const r = await runRow(row, n, {
    start: () => { obs.observe({ entryTypes: ['gc'] }); minor = 0; major = 0 },
    stop: async () => {
      await new Promise((res) => setTimeout(res, 200)) // let the observer deliver
      obs.disconnect()
      return { minor, major }
    },
  })
  process.stderr.write(`#RESULT ${JSON.stringify(r satisfies RowResult)}\n`)
  process.exit(0)
}

const N = Number(process.argv[2] ?? 1_000_000)
const loadBefore = load1()
const started = new Date()
const lines: string[] = []
for (const row of ROWS) {
  const r = await runTraced<RowResult>(fileURLToPath(import.meta.url), ['--row', row, String(N)])
  if (!r.result || !r.trace) {
    lines.push(`| ${LABEL[row]} | not measured: ${r.result ? 'no --trace-gc window in the output' : `child exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`} | | | | | |`)
    continue
  }
  const { events, ms, observerMinor, observerMajor, alerts } = r.result
  const t = r.trace
  const per10k = (row === 'alerts' || row === 'aedes') && alerts > 0 ? ` (${(t.scavenges / alerts * 10_000).toFixed(2)} per 10,000 alerts)` : ''
  lines.push(`| ${LABEL[row]} | ${events.toLocaleString('en')} | **${t.scavenges}**${per10k} / ${t.fullGcs} | ${observerMinor} / ${observerMajor} | ${(t.allocatedBytes / events).toFixed(1)} | ${(events / ms / 1000).toFixed(2)} M/s |`)
}
const loadAfter = load1()

console.log(`## Event core allocation (issue 2 §12a, issue 13 §2-3)

${machineLine(started)}; load ${loadBefore} before, ${loadAfter} after. Command: \`node --import tsx bench/core-gc.ts ${N}\`
(each row in a child: \`node --import tsx --expose-gc --trace-gc bench/core-gc.ts --row NAME ${N}\`).

Counted from V8's \`--trace-gc\` output between two forced GCs that bracket ${N.toLocaleString('en')} events after 200,000 warm-up
events; "observer" is a PerformanceObserver on \`gc\` entries in the same child, printed to show whether it agrees.
Bytes/event = heap growth before each GC in the window (trace heap sizes, 0.1 MB resolution) / events.
Targets (issue 13 §2): 0 scavenges per 1M state events and per 1M BLE adverts; at most 1 per 10,000 distinct alerts.

| path | events | scavenges / full GCs (--trace-gc) | observer minor / major | bytes/event | throughput |
|---|---:|---:|---:|---:|---:|
${lines.join('\n')}

The aedes row allocates by design (aedes builds a packet object and a per-subscriber queue entry per publish).
`)
