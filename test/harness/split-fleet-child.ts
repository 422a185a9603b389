/**
 * One process of the city run's split load generator (split-fleet.ts): a
 * ContractFleet over a contiguous slice of the city's posts, driven over IPC
 * (split-fleet-protocol.ts). It raises the alerts the run asks for, sends its
 * counters every 100 ms while they change, measures its own event-loop delay
 * during the traffic and hands over what it holds at the end. It exits when
 * the run's process goes away (IPC disconnect), so a crashed run leaves no
 * generator behind.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { ContractFleet } from './contract-fleet.js'
import type { FromChild, LiveStats, SliceOptions, ToChild } from './split-fleet-protocol.js'

const send = (m: FromChild) => { process.send?.(m) }
let fleet: ContractFleet | null = null
const raisedIds: string[] = []
let lag: IntervalHistogram | null = null
let lagResult = { p99: Number.NaN, max: Number.NaN, cpuPct: Number.NaN }
// CPU over the same span: a late event loop with little CPU of its own is starved by other processes.
let cpu0 = process.cpuUsage()
let cpuAt = 0
const cpuPct = () => { const u = process.cpuUsage(cpu0); return (100 * (u.user + u.system)) / 1000 / Math.max(1, Date.now() - cpuAt) }
let last = ''
let connected = -1
let connectedChangedAt = Date.now()

// Connected-count changes at 50 ms resolution (the run computes "every post back" from them).
const watch = setInterval(() => {
  if (!fleet) return
  if (fleet.stats.connected !== connected) { connected = fleet.stats.connected; connectedChangedAt = Date.now() }
}, 50)
const push = setInterval(() => {
  if (!fleet) return
  const { reconnectMs: _r, lostBy: _l, ...counters } = fleet.stats
  const stats: LiveStats = { ...counters, connectedChangedAt }
  const s = JSON.stringify(stats)
  if (s !== last) { last = s; send({ t: 'stats', stats }) }
}, 100)

function init(o: SliceOptions): void {
  const { names, credentials, ...rest } = o
  fleet = new ContractFleet({ ...rest, postName: (city) => names[city - o.firstIndex], credentials: (p) => credentials?.[p] ?? null })
}

function report(): void {
  const f = fleet!
  send({
    t: 'report',
    report: {
      pid: process.pid, firstIndex: f.o.firstIndex, posts: f.posts.length, raisedIds,
      firstSent: [...f.firstSent], pendingIds: f.pendingIds(), stats: f.stats,
      stillPending: f.posts.filter((p) => p.outbox.size).map((p) => ({ post: p.name, alerts: p.outbox.size, cut: p.wasCut, refusedSubs: p.refusedSubs })).slice(0, 50),
      healthyCut: f.posts.find((p) => !p.outbox.size && p.wasCut)?.name ?? null,
      lag: lag ? { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6, cpuPct: cpuPct() } : lagResult,
    },
  })
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'init': init(m.options); break
    case 'start':
      fleet!.start(m.timeoutMs).then(() => send({ t: 'started' }), (e: Error) => send({ t: 'failed', error: e.message }))
      break
    case 'raise': for (const [i, d] of m.alerts) raisedIds.push(fleet!.raise(i, d)); break
    case 'lag-start': lag = monitorEventLoopDelay({ resolution: 20 }); lag.enable(); cpu0 = process.cpuUsage(); cpuAt = Date.now(); break
    case 'lag-stop':
      if (lag) { lag.disable(); lagResult = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6, cpuPct: cpuPct() }; lag = null }
      break
    case 'report': report(); break
    case 'stop':
      clearInterval(watch)
      clearInterval(push)
      void (fleet?.stop() ?? Promise.resolve()).finally(() => { send({ t: 'stopped' }); process.disconnect() })
      break
  }
})
process.on('disconnect', () => process.exit(0))
send({ t: 'ready' })
