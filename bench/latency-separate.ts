/**
 * bench/latency.ts --procs=separate (issue 13 §1): the station path and its
 * reference with each publisher in its OWN process, as in production, and the
 * subscribers in this one. In the one-process mode the whole gateway (its
 * embedded broker, lamp box twin, timers, sinks) shares the subscriber's event
 * loop, so the station path's delivery also waits for gateway work that a
 * real station console, in another process, never waits for, while the
 * reference's process holds nothing else. Here both publishers are children
 * forked the same way (bench/latency-child.ts), alternating station and
 * reference for `--rounds` rounds in one run.
 *
 * Latency per delivery: the child stamps CLOCK_MONOTONIC just before it
 * injects (gateway) or publishes (reference); the subscriber stamps the same
 * clock at its `message` event. The child's IPC report of the stamp is not on
 * the measured path (it may arrive before or after the delivery).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt, { type MqttClient } from 'mqtt'
import type { Mosquitto } from '../test/harness/mosquitto.js'
import { noDelay } from '../gateway/reconnect.js'
import { summarize, type Summary } from './bench-stats.js'
import type { FromChild, ToChild } from './latency-child.js'

const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6
const CHILD = fileURLToPath(new URL('./latency-child.ts', import.meta.url))
const EVENT_TIMEOUT_MS = 5000

export interface SeparateRow {
  path: string; round: number; subs: number; events: number; s: Summary; lost: number; seconds: number
  /** The publisher process's CPU (user + system) per measured alert, µs, everything included (IPC too); NaN if its child does not report it. */
  cpuUsPerAlert: number
}

interface Child { proc: ChildProcess; next: () => Promise<FromChild> }

/** `tree`: another checkout whose bench/latency-child.ts (same IPC) runs that tree's gateway (--baseline). */
function forkChild(role: 'station' | 'reference', url: string, tree?: string): Child {
  const script = tree ? join(tree, 'bench/latency-child.ts') : CHILD
  const proc = fork(script, [role, url], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(tree ? { cwd: tree } : {}) })
  const queue: FromChild[] = []
  let waiter: ((m: FromChild) => void) | null = null
  proc.on('message', (m: FromChild) => {
    if (waiter) { const w = waiter; waiter = null; w(m) } else queue.push(m)
  })
  return { proc, next: () => queue.length ? Promise.resolve(queue.shift() as FromChild) : new Promise((r) => { waiter = r }) }
}

const tell = (c: Child, m: ToChild): void => { c.proc.send(m) }

async function stopChild(c: Child): Promise<void> {
  const gone = new Promise((r) => c.proc.once('exit', r))
  tell(c, { type: 'stop' })
  await Promise.race([gone, sleep(5000).then(() => c.proc.kill('SIGKILL'))])
}

/** Subscribers in this process; deliveries matched by alert id to the child's stamp. */
class Receiver {
  private t0 = new Map<string, number>()
  private arrivals = new Map<string, number[]>()
  samples: number[] = []
  measuring = false
  cpuFirst: number | undefined
  cpuLast = NaN
  cpuSends = 0
  private want = ''
  private done: (() => void) | null = null
  private subs = 0

  async connect(n: number, url: string, filter: string): Promise<MqttClient[]> {
    this.subs = n
    return Promise.all(Array.from({ length: n }, async (_, i) => {
      const c = noDelay(await mqtt.connectAsync(url, { clientId: `bench-sep-${i}-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0, clean: true }))
      c.on('message', (_t, payload) => this.arrive((JSON.parse(payload.toString()) as { id: string }).id, hrMs()))
      await c.subscribeAsync(filter, { qos: 1 })
      return c
    }))
  }

  private arrive(id: string, at: number): void {
    const a = this.arrivals.get(id) ?? []
    a.push(at)
    this.arrivals.set(id, a)
    this.check(id)
  }

  stamp(id: string, t0: number): void {
    this.t0.set(id, t0)
    this.want = id
    this.check(id)
  }

  private check(id: string): void {
    const t0 = this.t0.get(id)
    const a = this.arrivals.get(id)
    if (t0 === undefined || !a || a.length < this.subs || id !== this.want) return
    if (this.measuring) for (const at of a) this.samples.push(at - t0)
    this.t0.delete(id)
    this.arrivals.delete(id)
    this.done?.()
  }

  /** Resolves when all subscribers have the alert the child reports next, or after the timeout (lost). */
  async one(child: Child, record: boolean, recorded: string[] | null): Promise<number> {
    const all = new Promise<void>((r) => { this.done = r })
    tell(child, { type: 'go', record })
    const sent = await child.next()
    if (sent.type !== 'sent') throw new Error(`child said ${sent.type}, expected sent`)
    if (recorded && sent.payload) recorded.push(sent.payload)
    if (this.measuring) { this.cpuFirst ??= sent.cpuUs ?? NaN; this.cpuLast = sent.cpuUs ?? NaN; this.cpuSends++ }
    this.stamp(sent.id, sent.t0)
    let timer: NodeJS.Timeout | undefined
    const lost = await Promise.race([all.then(() => 0), new Promise<number>((r) => { timer = setTimeout(() => r(this.subs - (this.arrivals.get(sent.id)?.length ?? 0)), EVENT_TIMEOUT_MS) })])
    clearTimeout(timer)
    this.done = null
    return lost
  }
}

async function measure(path: string, round: number, child: Child, subs: number, url: string, filter: string, o: { events: number; warmup: number; gapMs: number }, recorded: string[] | null): Promise<SeparateRow> {
  const rx = new Receiver()
  const clients = await rx.connect(subs, url, filter)
  const t = performance.now()
  let lost = 0
  for (let i = 0; i < o.warmup; i++) { await rx.one(child, false, null); await sleep(o.gapMs) }
  rx.measuring = true
  for (let i = 0; i < o.events; i++) { lost += await rx.one(child, recorded !== null, recorded); await sleep(o.gapMs) }
  rx.measuring = false
  await Promise.all(clients.map((c) => c.endAsync(true)))
  const cpuUsPerAlert = rx.cpuSends > 1 ? (rx.cpuLast - (rx.cpuFirst ?? NaN)) / (rx.cpuSends - 1) : NaN
  return { path, round, subs, events: o.events, s: summarize(rx.samples), lost, seconds: (performance.now() - t) / 1000, cpuUsPerAlert }
}

export const STATION_PATH = 'twin -> uplink -> mosquitto (gateway in its own process)'
export const BASELINE_PATH = 'baseline checkout: twin -> uplink -> mosquitto (gateway in its own process)'

async function stationChild(url: string, tree?: string): Promise<{ child: Child; topic: string }> {
  const child = forkChild('station', url, tree)
  const ready = await child.next()
  if (ready.type !== 'ready') throw new Error(`station child${tree ? ` (${tree})` : ''} not ready`)
  return { child, topic: ready.alertTopic }
}

/**
 * With a baseline checkout (before/after in one run): per round this tree's gateway and the
 * baseline's, in alternating order, then the reference. Both gateways use the same client id at
 * mosquitto, so each is forked for its round and stopped after it.
 */
async function runWithBaseline(mosq: Mosquitto, baseline: string, o: SeparateOptions): Promise<SeparateRow[]> {
  const rows: SeparateRow[] = []
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? [undefined, baseline] : [baseline, undefined]
    let recorded: string[] = []
    let topic = ''
    for (const tree of order) {
      const { child, topic: t } = await stationChild(mosq.url, tree)
      topic = t
      try {
        const rec: string[] = []
        const row = await measure(tree ? BASELINE_PATH : STATION_PATH, round, child, o.subs, mosq.url, t.replace(/\/[^/]+$/, '/+'), o, tree ? null : rec)
        if (!tree) recorded = rec
        rows.push(row)
        o.log(`separate round ${round} ${tree ? 'baseline' : 'station'}: p50 ${row.s.p50.toFixed(3)} p99 ${row.s.p99.toFixed(3)} ms, lost ${row.lost}`)
      } finally {
        await stopChild(child)
      }
    }
    rows.push(await referenceRound(mosq, topic, recorded, round, o))
  }
  return rows
}

async function referenceRound(mosq: Mosquitto, topic: string, recorded: string[], round: number, o: SeparateOptions): Promise<SeparateRow> {
  const ref = forkChild('reference', mosq.url)
  tell(ref, { type: 'payloads', topic, payloads: recorded })
  if ((await ref.next()).type !== 'ready') throw new Error('reference child not ready')
  try {
    const r = await measure('reference: mqtt.js -> mosquitto (publisher in its own process)', round, ref, o.subs, mosq.url, topic.replace(/\/[^/]+$/, '/+'), o, null)
    o.log(`separate round ${round} reference: p50 ${r.s.p50.toFixed(3)} p99 ${r.s.p99.toFixed(3)} ms, lost ${r.lost}`)
    return r
  } finally {
    await stopChild(ref)
  }
}

export interface SeparateOptions { subs: number; events: number; warmup: number; gapMs: number; rounds: number; log: (s: string) => void; baseline?: string }

/** Station and reference in separate processes, alternating for `rounds` rounds; one row per path per round. */
export async function runSeparate(mosq: Mosquitto, o: SeparateOptions): Promise<SeparateRow[]> {
  if (o.baseline) return runWithBaseline(mosq, o.baseline, o)
  const rows: SeparateRow[] = []
  const gw = forkChild('station', mosq.url)
  const ready = await gw.next()
  if (ready.type !== 'ready') throw new Error('station child not ready')
  const topic = ready.alertTopic
  const filter = topic.replace(/\/[^/]+$/, '/+')
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const recorded: string[] = []
      const st = await measure(STATION_PATH, round, gw, o.subs, mosq.url, filter, o, recorded)
      rows.push(st)
      o.log(`separate round ${round} station: p50 ${st.s.p50.toFixed(3)} p99 ${st.s.p99.toFixed(3)} ms, lost ${st.lost}`)
      rows.push(await referenceRound(mosq, topic, recorded, round, o))
    }
  } finally {
    await stopChild(gw)
  }
  return rows
}
