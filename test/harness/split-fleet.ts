/**
 * The city run's load generator split over several processes (issue 16 §4):
 * with all 2,100 posts in one process its event loop was late by up to 6.7 s
 * (p99 3.1 s), so posts missed their own 8 s keepalives and acks waited on
 * the generator, not on the broker. Here each of `procs` child processes
 * (split-fleet-child.ts, forked so the OS spreads them over the cores) runs a
 * ContractFleet over a contiguous slice of the posts; the run's process picks
 * which post raises each alert, as before, and gets back the counters while
 * the traffic runs and, at the end, what each slice raised, sent and still
 * holds. The union must be exactly what was asked for (checked by report()):
 * the run's verification against PostgreSQL then works on it as on one fleet.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FleetOptions, FleetStats } from './contract-fleet.js'
import type { FromChild, LiveStats, SliceOptions, SliceReport, ToChild } from './split-fleet-protocol.js'

export interface SplitFleetOptions extends Omit<FleetOptions, 'postName' | 'credentials' | 'firstIndex'> {
  /** Generator processes (at most one per post). */
  procs: number
  postName: (i: number) => string
  credentials?: (post: string) => { username: string; password: string } | null
}

/** The whole fleet at the end: every slice's report, merged, plus each process's own figures. */
export interface FleetReport {
  /** Every alert id raised, in the order the run asked for them. */
  raisedIds: string[]
  firstSent: Map<string, number>
  pendingIds: string[]
  stats: FleetStats
  stillPending: SliceReport['stillPending']
  healthyCut: string | null
  slices: Array<{ pid: number; posts: string; lag: { p99: number; max: number; cpuPct: number } }>
}

interface Slice { child: ChildProcess; first: number; count: number; live: LiveStats | null; batch: Array<[number, number]>; seq: number[]; ready: Promise<FromChild> }

const ZERO: Omit<LiveStats, 'connectedChangedAt'> = { raised: 0, acked: 0, pending: 0, sends: 0, repeats: 0, unknownAcks: 0, connects: 0, disconnects: 0, connected: 0, fallbacks: 0, refusedSubs: 0, sessionResets: 0 }

export class SplitFleet {
  private readonly slices: Slice[] = []
  private readonly waiters: Array<{ slice: Slice; t: FromChild['t']; resolve(m: FromChild): void; reject(e: Error): void }> = []
  /** Ids the run asked for, in order (`<site>:<post>:<seq>`, the seq counted here per post as the post does). */
  private readonly asked: string[] = []
  private flushing = false

  constructor(readonly o: SplitFleetOptions) {
    const n = Math.max(1, Math.min(o.procs, o.posts))
    const entry = fileURLToPath(new URL('./split-fleet-child.ts', import.meta.url))
    for (let k = 0; k < n; k++) {
      const first = Math.floor((k * o.posts) / n)
      const count = Math.floor(((k + 1) * o.posts) / n) - first
      const child = fork(entry, [], {
        // The suite's esbuild loader (ts-loader.mjs), lighter than tsx (issue 14 §5).
        execArgv: ['--import', new URL('./ts-loader.mjs', import.meta.url).href],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      const slice: Slice = { child, first, count, live: null, batch: [], seq: new Array<number>(count).fill(0), ready: Promise.resolve({ t: 'ready' }) }
      slice.ready = this.next(slice, 'ready', 60_000)
      this.slices.push(slice)
      child.on('message', (m: FromChild) => this.onMessage(slice, m))
      child.on('exit', (code, sig) => {
        for (const w of this.waiters.filter((x) => x.slice === slice)) w.reject(new Error(`load generator process ${child.pid} exited (${code ?? sig})`))
      })
      const names = Array.from({ length: count }, (_, i) => o.postName(first + i))
      const credentials = o.credentials ? Object.fromEntries(names.flatMap((p) => { const c = o.credentials!(p); return c ? [[p, c]] : [] })) : undefined
      const { procs: _p, postName: _n, credentials: _c, ...rest } = o
      // The ramp's connections at once stay what one process opened in total.
      const options: SliceOptions = { ...rest, rampConcurrency: Math.max(1, Math.ceil((o.rampConcurrency ?? 50) / n)), posts: count, firstIndex: first, names, credentials }
      this.post(slice, { t: 'init', options })
    }
  }

  get procs(): number {
    return this.slices.length
  }

  /** Resolves when every process has loaded (so start() measures connecting, not Node's start). */
  async ready(): Promise<void> {
    await Promise.all(this.slices.map((s) => s.ready))
  }

  /** Connects every post (each process its slice); resolves when all are connected. */
  async start(timeoutMs = 300_000): Promise<void> {
    await Promise.all(this.slices.map(async (s) => {
      const started = this.next(s, 'started', timeoutMs + 10_000)
      this.post(s, { t: 'start', timeoutMs })
      await started
    }))
  }

  /** Raise one alert on the city's post i (default: a random post), device d. Returns its id. */
  raise(i = Math.floor(Math.random() * this.o.posts), d = Math.floor(Math.random() * (this.o.devices ?? 10))): string {
    const s = this.slices.find((x) => i >= x.first && i < x.first + x.count)!
    const local = i - s.first
    const id = `${this.o.site}:${this.o.postName(i)}:${++s.seq[local]}`
    this.asked.push(id)
    s.batch.push([local, d])
    // Raises within one turn of the event loop go in one message per process.
    if (!this.flushing) {
      this.flushing = true
      queueMicrotask(() => {
        this.flushing = false
        for (const x of this.slices) if (x.batch.length) { this.post(x, { t: 'raise', alerts: x.batch }); x.batch = [] }
      })
    }
    return id
  }

  /** The processes' counters, summed (each at most ~100 ms old). */
  get stats(): Omit<LiveStats, 'connectedChangedAt'> {
    const sum = { ...ZERO }
    for (const s of this.slices) for (const k of Object.keys(ZERO) as Array<keyof typeof ZERO>) sum[k] += s.live?.[k] ?? 0
    return sum
  }

  /** When every post is connected: the moment the last process got its last one (else null). */
  allConnectedSince(): number | null {
    if (this.slices.some((s) => s.live?.connected !== s.count)) return null
    return Math.max(...this.slices.map((s) => s.live!.connectedChangedAt))
  }

  /** Each process measures its event-loop delay from now until lagStop(). */
  lagStart(): void { for (const s of this.slices) this.post(s, { t: 'lag-start' }) }
  lagStop(): void { for (const s of this.slices) this.post(s, { t: 'lag-stop' }) }

  /**
   * What every process raised, sent and holds now, merged. Throws when the union of what the processes
   * raised is not exactly what was asked for, in the same order per post (a generator fault, never a broker's).
   */
  async report(timeoutMs = 30_000): Promise<FleetReport> {
    const reports = await Promise.all(this.slices.map(async (s) => {
      const r = this.next(s, 'report', timeoutMs)
      this.post(s, { t: 'report' })
      return ((await r) as Extract<FromChild, { t: 'report' }>).report
    }))
    checkUnion(this.asked, reports, this.slices.map((x) => ({ first: x.first, count: x.count })))
    const stats: FleetStats = { ...ZERO, reconnectMs: [], lostBy: {} }
    for (const r of reports) {
      for (const k of Object.keys(ZERO) as Array<keyof typeof ZERO>) stats[k] += r.stats[k]
      stats.reconnectMs.push(...r.stats.reconnectMs)
      for (const [by, n] of Object.entries(r.stats.lostBy)) stats.lostBy[by] = (stats.lostBy[by] ?? 0) + n
    }
    return {
      raisedIds: [...this.asked],
      firstSent: new Map(reports.flatMap((r) => r.firstSent)),
      pendingIds: reports.flatMap((r) => r.pendingIds),
      stats,
      stillPending: reports.flatMap((r) => r.stillPending).slice(0, 50),
      healthyCut: reports.find((r) => r.healthyCut)?.healthyCut ?? null,
      slices: reports.map((r, k) => ({ pid: r.pid, posts: `${this.o.postName(this.slices[k].first)}..${this.o.postName(this.slices[k].first + this.slices[k].count - 1)}`, lag: r.lag })),
    }
  }

  /** Stops every post, then the processes (killed if they do not exit within 10 s). */
  async stop(): Promise<void> {
    await Promise.all(this.slices.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return
      const exited = new Promise((r) => s.child.once('exit', r))
      this.post(s, { t: 'stop' })
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }))
  }

  private post(s: Slice, m: ToChild): void {
    if (s.child.connected) s.child.send(m)
  }

  private onMessage(slice: Slice, m: FromChild): void {
    if (m.t === 'stats') { slice.live = m.stats; return }
    const i = this.waiters.findIndex((w) => w.slice === slice && (w.t === m.t || m.t === 'failed'))
    if (i < 0) return
    const [w] = this.waiters.splice(i, 1)
    if (m.t === 'failed') w.reject(new Error(`load generator process ${slice.child.pid}: ${m.error}`))
    else w.resolve(m)
  }

  private next(slice: Slice, t: FromChild['t'], timeoutMs: number): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator process ${slice.child.pid}: no '${t}' within ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push({ slice, t, resolve: (m) => { clearTimeout(timer); resolve(m) }, reject: (e) => { clearTimeout(timer); reject(e) } })
    })
  }
}

/** Each process raised exactly the ids asked of its posts, in order; together exactly those asked. Throws if not. */
export function checkUnion(asked: string[], reports: Array<Pick<SliceReport, 'pid' | 'firstIndex' | 'posts' | 'raisedIds'>>, slices: Array<{ first: number; count: number }>): void {
  const byPost = (ids: string[]) => {
    const m = new Map<string, string[]>()
    for (const id of ids) {
      const post = id.slice(0, id.lastIndexOf(':'))
      const l = m.get(post)
      if (l) l.push(id)
      else m.set(post, [id])
    }
    return m
  }
  const want = byPost(asked)
  const got = new Map<string, string[]>()
  reports.forEach((r, k) => {
    if (r.firstIndex !== slices[k].first || r.posts !== slices[k].count) throw new Error(`load generator process ${r.pid} runs posts from ${r.firstIndex} (${r.posts}), not its slice`)
    for (const [post, ids] of byPost(r.raisedIds)) {
      if (got.has(post)) throw new Error(`post ${post} raised alerts in two generator processes`)
      got.set(post, ids)
    }
  })
  const total = reports.reduce((n, r) => n + r.raisedIds.length, 0)
  if (total !== asked.length || got.size !== want.size) throw new Error(`the generator processes raised ${total} alerts on ${got.size} posts; asked: ${asked.length} on ${want.size}`)
  for (const [post, ids] of want) {
    const g = got.get(post) ?? []
    if (g.length !== ids.length || g.some((id, i) => id !== ids[i])) throw new Error(`post ${post} raised ${JSON.stringify(g.slice(0, 5))}…; asked: ${JSON.stringify(ids.slice(0, 5))}…`)
  }
}
