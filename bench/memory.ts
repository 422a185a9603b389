/**
 * Memory that comes back (issue 13 §6): a gateway (sim twins of a typical
 * post: 4 buttons, 10 whistles, a lamp box; file outbox; a real mosquitto as
 * the station with a console that acknowledges every alert) idles, takes
 * 100,000 events (99,000 state events through the driver hand-off, 1,000
 * distinct alerts, each acknowledged), then idles again; RSS and heap are
 * read every 10 s for 60 s. Reference in the same run: the RSS of this
 * process before the gateway exists (node + tsx + the modules loaded).
 *
 *   node --import tsx --expose-gc bench/memory.ts              the 100,000-event run
 *   node --import tsx --expose-gc bench/memory.ts --soak-hour  plus a one-hour soak at 30 events/s
 *     with heap snapshots before and after, summarised by constructor (SAFEHOUSE_SOAK_MIN=N for N minutes;
 *     SAFEHOUSE_SOAK_KEEP=dir keeps the two snapshots in dir)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getHeapSnapshot } from 'node:v8'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { StationConsole } from '../provisioning/demo/station-console.js'
import { Kind } from '../protocols/event-kinds.js'
import { systemClock } from '../devices/time/clock.js'
import { load1, machineLine } from './bench-stats.js'

const SOAK_MIN = process.argv.includes('--soak-hour') ? Number(process.env.SAFEHOUSE_SOAK_MIN ?? 60) : 0
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const MiB = (b: number) => (b / 2 ** 20).toFixed(1)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
function snap(): { rss: number; heap: number } {
  gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed }
}

const loadBefore = load1()
const started = new Date()
const reference = snap()
const mosq = await new Mosquitto().start()
const devices = [
  ...Array.from({ length: 4 }, (_, i) => ({ id: `button-${i}`, kind: 'panic-button', driver: 'sim', label: `Button ${i}`, location: 'counter' })),
  ...Array.from({ length: 10 }, (_, i) => ({ id: `whistle-${i}`, kind: 'ble-whistle', driver: 'sim', address: `A4:C1:38:00:00:${i.toString(16).padStart(2, '0').toUpperCase()}`, alert_kind: 'whistle' })),
  { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' },
]
const { gw, cleanup } = await testGateway({ stationUrl: mosq.url, outbox: 'file', extra: { devices } })
await gw.start()
await until(() => gw.uplink.state === 'connected', 'uplink connected')
const station = new StationConsole({ url: mosq.url, username: '', password: '', operator: 'bench-desk', autoAckMs: 0, print: () => {} })
await station.start()
await sleep(10_000)
const idle = snap()

const N = 100_000
const ALERT_EVERY = 100
const nDev = gw.devices.size - 1
let sent = 0
const t0 = performance.now()
while (sent < N) {
  for (let k = 0; k < 500 && sent < N; k++, sent++) {
    const dev = 1 + (sent % nDev)
    if (sent % ALERT_EVERY === 0) gw.core.input(dev, Kind.PANIC, 1, systemClock.now(), NaN, sent)
    else gw.core.input(dev, Kind.BATTERY, 50 + (sent & 31), systemClock.now(), -60, -1)
  }
  await sleep(1) // drivers hand over in bursts, not one synchronous loop
}
const driveMs = performance.now() - t0
await until(() => gw.outbox.pending().length === 0, 'every alert acknowledged', 120_000).catch(() => {})
const after = [snap()]
for (let s = 10; s <= 60; s += 10) {
  await sleep(10_000)
  after.push(snap())
}

let soak = ''
if (SOAK_MIN > 0) {
  // SAFEHOUSE_SOAK_KEEP=dir keeps both snapshots there (to follow retainers afterwards).
  const keep = process.env.SAFEHOUSE_SOAK_KEEP
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'safehouse-soak-'))
  const summary = (file: string) => summarizeSnapshot(file)
  const before = join(dir, 'before.heapsnapshot')
  const s0 = snap()
  await writeSnapshot(before)
  // RSS and heap every 5 min: writing a snapshot inflates RSS for a while, so growth is read from the
  // series (5 min onwards), not from the two ends.
  const series: Array<{ min: number; rss: number; heap: number }> = []
  const t0 = performance.now()
  const end = t0 + SOAK_MIN * 60_000
  let nextSample = t0 + 5 * 60_000
  let n = 0
  while (performance.now() < end) {
    const dev = 1 + (n % nDev)
    if (n % 300 === 0) gw.core.input(dev, Kind.PANIC, 1, systemClock.now(), NaN, 1e6 + n)
    else gw.core.input(dev, Kind.BATTERY, 50 + (n & 31), systemClock.now(), -60, -1)
    n++
    await sleep(33)
    if (performance.now() >= nextSample) {
      series.push({ min: Math.round((performance.now() - t0) / 60_000), ...snap() })
      nextSample += 5 * 60_000
    }
  }
  await sleep(5_000)
  const s1 = snap()
  const afterFile = join(dir, 'after.heapsnapshot')
  await writeSnapshot(afterFile)
  const a = summary(before)
  const b = summary(afterFile)
  const diff = [...b].map(([k, v]) => [k, v.size - (a.get(k)?.size ?? 0), v.count - (a.get(k)?.count ?? 0)] as const)
    .filter(([, d]) => d !== 0).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 10)
  const tail = series.filter((x) => x.min >= 5)
  const rssSpan = tail.length ? `${MiB(Math.min(...tail.map((x) => x.rss)))}-${MiB(Math.max(...tail.map((x) => x.rss)))}` : 'n/a'
  soak = `\n\nSoak: ${SOAK_MIN} min, ${(n / SOAK_MIN / 60).toFixed(1)} events/s (${n.toLocaleString('en')} events, one alert in 300): RSS ${MiB(s0.rss)} MiB at the start (before the first snapshot), ${MiB(s1.rss)} MiB at the end (before the second; the first one's writing inflates RSS after it), heap ${MiB(s0.heap)} -> ${MiB(s1.heap)} MiB.
RSS / heap every 5 min (after a forced GC), MiB: ${series.map((x) => `${x.min} min ${MiB(x.rss)} / ${MiB(x.heap)}`).join('; ')}. RSS from 5 min on: ${rssSpan} MiB.
Largest heap differences by constructor (after - before snapshot, bytes / objects):

| constructor | bytes | objects |
|---|---:|---:|
${diff.map(([k, d, c]) => `| ${k} | ${d} | ${c} |`).join('\n')}`
  if (!keep) rmSync(dir, { recursive: true, force: true })
}

await station.stop()
await cleanup()
await mosq.stop()
const loadAfter = load1()
const back = after.find((s) => s.rss - idle.rss <= 10 * 2 ** 20)
console.log(`## Memory after 100,000 events (bench/memory.ts, issue 13 §6)

${machineLine(started)}; load ${loadBefore} before, ${loadAfter} after. Command: \`node ${process.execArgv.join(" ")} bench/memory.ts${SOAK_MIN ? ' --soak-hour' : ''}\`.
One process: bench + gateway (sim twins of 4 buttons, 10 whistles, a lamp box; file outbox) + a station console acknowledging
every alert through a real mosquitto. RSS/heap after a forced GC. Reference: this process before the gateway existed.

| moment | RSS MiB | heap MiB | RSS vs idle |
|---|---:|---:|---:|
| reference (node + tsx + modules, no gateway) | ${MiB(reference.rss)} | ${MiB(reference.heap)} | |
| gateway idle (10 s after start) | ${MiB(idle.rss)} | ${MiB(idle.heap)} | 0 |
${after.map((s, i) => `| ${i * 10} s after the last of ${N.toLocaleString('en')} events (driven in ${(driveMs / 1000).toFixed(1)} s) | ${MiB(s.rss)} | ${MiB(s.heap)} | ${(s.rss - idle.rss >= 0 ? '+' : '')}${MiB(s.rss - idle.rss)} |`).join('\n')}

Back within 10 MiB of idle within 60 s: **${back ? 'yes' : 'no'}**.${soak || `\n\nOne-hour soak: not run here (\`--soak-hour\`; \`SAFEHOUSE_SOAK_MIN=N\` for a shorter one).`}
`)
process.exit(0)

async function writeSnapshot(file: string): Promise<void> {
  gc()
  const chunks: Buffer[] = []
  for await (const c of getHeapSnapshot()) chunks.push(c as Buffer)
  writeFileSync(file, Buffer.concat(chunks))
}

/** Constructor name -> self size and count, from a .heapsnapshot. */
function summarizeSnapshot(file: string): Map<string, { size: number; count: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] }
  const f = s.snapshot.meta.node_fields
  const width = f.length
  const iType = f.indexOf('type')
  const iName = f.indexOf('name')
  const iSize = f.indexOf('self_size')
  const types = s.snapshot.meta.node_types[0]
  const out = new Map<string, { size: number; count: number }>()
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]]
    const name = type === 'object' || type === 'closure' ? s.strings[s.nodes[i + iName]] : `(${type})`
    const e = out.get(name) ?? { size: 0, count: 0 }
    e.size += s.nodes[i + iSize]
    e.count++
    out.set(name, e)
  }
  return out
}
