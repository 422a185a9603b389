/**
 * Durable outbox benchmark (issue 6 §7): group-commit throughput, fsyncs per
 * 1,000 alerts, commit latency of a lone alert, time to open (recover) a
 * backlog of 10,000 and 100,000 alerts, memory with a 100,000-alert backlog.
 *
 *   node --import tsx bench/outbox.ts            (OUTBOX_BENCH_DIR=/path to pick the disk)
 *
 * Prints a Markdown section. Numbers depend on the disk's fdatasync latency
 * above all: measure on the Pi's SD card before quoting them for a post.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import pino from 'pino'
import { FileOutbox } from '../gateway/outbox/file-outbox.js'
import { type OutboxFs, nodeOutboxFs } from '../gateway/outbox/outbox-fs.js'
import type { NewOutboxEntry, OutboxEntry } from '../gateway/outbox/outbox.js'
import { percentileSorted } from './bench-stats.js'

const log = pino({ level: 'silent' })
const base = process.env.OUTBOX_BENCH_DIR ?? os.tmpdir()

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let seq = 0
function alert(): NewOutboxEntry {
  const n = ++seq
  const device = `btn-${n % 16}`
  const id = `sh-xuhui-017:post1:${n}`
  // A realistic alert payload (docs/protocol.md): about 230 bytes of JSON.
  const payload = Buffer.from(JSON.stringify({
    v: 1, id, site: 'sh-xuhui-017', post: 'post1', device, kind: 'panic', seen_at: 1_790_000_000_000 + n,
    sent_at: 1_790_000_000_000 + n, neighbour: false, battery: 87, rssi: -61, source: 'wired',
  }))
  return { id, device, topic: `safehouse/v1/sh-xuhui-017/alert/${device}`, payload, acceptedAt: Date.now() }
}

const pct = (xs: number[], p: number): number => percentileSorted([...xs].sort((a, b) => a - b), p)
const f0 = (x: number): string => x.toFixed(0)
const f1 = (x: number): string => x.toFixed(1)
const f2 = (x: number): string => x.toFixed(2)

/** The real file system, with every fdatasync/fsync made `ms` slower: a cheap SD card's latency. */
function slowSyncFs(ms: number): OutboxFs {
  const later = (): Promise<void> => new Promise((r) => setTimeout(r, ms))
  return {
    ...nodeOutboxFs,
    async open(path, mode) {
      const f = await nodeOutboxFs.open(path, mode)
      return { ...f, write: f.write.bind(f), truncate: f.truncate.bind(f), close: f.close.bind(f),
        datasync: async () => { await f.datasync(); await later() }, sync: async () => { await f.sync(); await later() } }
    },
  }
}

async function fresh(opts: { fs?: OutboxFs } = {}): Promise<{ o: FileOutbox; dir: string }> {
  const dir = mkdtempSync(join(base, 'safehouse-outbox-bench-'))
  const o = new FileOutbox({ dir, log, maxAlerts: 250_000, maxBytes: 256 * 1024 * 1024, ...opts })
  await o.open()
  return { o, dir }
}

function committedCount(o: FileOutbox): { n: number; wait(target: number): Promise<void> } {
  const c = { n: 0, wake: null as null | (() => void) }
  o.onCommitted((b) => { c.n += b.length; c.wake?.() })
  return {
    get n() { return c.n },
    wait: (target) => new Promise<void>((resolve) => {
      const check = (): void => { if (c.n >= target) resolve(); else c.wake = check }
      check()
    }),
  }
}

/** A stream of `total` alerts arriving `perTick` per event-loop turn; the acks follow (the station keeps up). */
async function throughput(total: number, perTick: number, fs?: OutboxFs): Promise<{ rate: number; fsyncsPer1000: number }> {
  const { o, dir } = await fresh({ fs })
  const c = committedCount(o)
  const before = o.stats().commits
  const t0 = performance.now()
  for (let sent = 0; sent < total;) {
    for (let i = 0; i < perTick && sent < total; i++, sent++) o.append(alert())
    await new Promise((r) => setImmediate(r))
  }
  await c.wait(total)
  const ms = performance.now() - t0
  const commits = o.stats().commits - before
  await o.close()
  rmSync(dir, { recursive: true, force: true })
  return { rate: (total / ms) * 1000, fsyncsPer1000: (commits / total) * 1000 }
}

async function loneLatency(n: number): Promise<number[]> {
  const { o, dir } = await fresh()
  const c = committedCount(o)
  const out: number[] = []
  for (let i = 1; i <= n; i++) {
    const t0 = performance.now()
    const e = alert()
    o.append(e)
    await c.wait(i)
    out.push(performance.now() - t0)
    o.ack(e.id)
  }
  await o.close()
  rmSync(dir, { recursive: true, force: true })
  return out
}

async function backlog(n: number): Promise<string> {
  const { o, dir } = await fresh()
  const c = committedCount(o)
  for (let i = 0; i < n; i++) {
    o.append(alert())
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
  }
  await c.wait(n)
  await o.close()
  return dir
}

async function openTimes(dir: string, runs: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const o = new FileOutbox({ dir, log, maxAlerts: 250_000, maxBytes: 256 * 1024 * 1024 })
    const t0 = performance.now()
    await o.open()
    out.push(performance.now() - t0)
    await o.close()
  }
  return out
}

const lines: string[] = []
const say = (s = ''): void => { lines.push(s) }
say('## Outbox (FileOutbox, group commit)')
say()
say(`${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model ?? 'cpu?'} × ${os.cpus().length} · ${Math.round(os.totalmem() / 1048576)} MiB · Node ${process.version} · log in ${base} · load ${os.loadavg().map(f1).join('/')}`)
say()

const RUNS = 9
const bursts: { rate: number; fsyncsPer1000: number }[] = []
for (let i = 0; i < RUNS; i++) bursts.push(await throughput(20_000, 1000))
const trickle: { rate: number; fsyncsPer1000: number }[] = []
for (let i = 0; i < RUNS; i++) trickle.push(await throughput(5_000, 10))
const sd: { rate: number; fsyncsPer1000: number }[] = []
for (let i = 0; i < 5; i++) sd.push(await throughput(5_000, 10, slowSyncFs(10)))
say('| workload | alerts/s median | alerts/s p99 (slowest) | fdatasyncs per 1,000 alerts (median) |')
say('|---|---:|---:|---:|')
say(`| burst: 20,000 alerts, 1,000 per tick | ${f0(pct(bursts.map((b) => b.rate), 50))} | ${f0(pct(bursts.map((b) => b.rate), 1))} | ${f1(pct(bursts.map((b) => b.fsyncsPer1000), 50))} |`)
say(`| stream: 5,000 alerts, 10 per tick | ${f0(pct(trickle.map((b) => b.rate), 50))} | ${f0(pct(trickle.map((b) => b.rate), 1))} | ${f1(pct(trickle.map((b) => b.fsyncsPer1000), 50))} |`)
say(`| stream, fdatasync made 10 ms slower (SD card) | ${f0(pct(sd.map((b) => b.rate), 50))} | ${f0(pct(sd.map((b) => b.rate), 1))} | ${f1(pct(sd.map((b) => b.fsyncsPer1000), 50))} |`)
say()
const lat = await loneLatency(300)
say(`Lone alert, append -> durable -> listener (one write + fdatasync), 300 runs: median ${f2(pct(lat, 50))} ms, p99 ${f2(pct(lat, 99))} ms.`)
say()

say('| backlog | log size | open() + recovery median | p99 (slowest) |')
say('|---|---:|---:|---:|')
let dir100k = ''
for (const n of [10_000, 100_000]) {
  const dir = await backlog(n)
  const times = await openTimes(dir, 5)
  const probe = new FileOutbox({ dir, log })
  await probe.open()
  const mb = probe.stats().bytes / 1048576
  await probe.close()
  say(`| ${n.toLocaleString('en')} alerts | ${f1(mb)} MiB | ${f0(pct(times, 50))} ms | ${f0(pct(times, 99))} ms |`)
  if (n === 100_000) dir100k = dir
  else rmSync(dir, { recursive: true, force: true })
}
say()

gc(); gc()
const m0 = process.memoryUsage()
const held = new FileOutbox({ dir: dir100k, log, maxAlerts: 250_000, maxBytes: 256 * 1024 * 1024 })
const { recovered } = await held.open()
await new Promise((r) => setTimeout(r, 100)) // let freed backing stores of the read buffers go
gc(); gc()
const m1 = process.memoryUsage()
say(`Memory with a ${recovered.toLocaleString('en')}-alert backlog open (after GC): heap +${f1((m1.heapUsed - m0.heapUsed) / 1048576)} MiB, ` +
  `buffers (external, payloads) +${f1((m1.external - m0.external) / 1048576)} MiB, RSS ${f0(m1.rss / 1048576)} MiB (process, incl. the benchmark's own garbage).`)
await held.close()
rmSync(dir100k, { recursive: true, force: true })
console.log(lines.join('\n'))
