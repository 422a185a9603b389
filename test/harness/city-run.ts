/**
 * A city on this machine (issue 16 §4), shared by bench/city.ts (2,100 posts)
 * and its scaled-down test (test/station/city-scaled.test.ts): a 3-node NATS
 * cluster with per-post credentials, one PostgreSQL, two station service
 * instances (the real CLI, each its own process), an operator console on each
 * (the browser's live feed, SSE), the posts as a ContractFleet
 * (contract-fleet.ts) split over several processes (split-fleet.ts). The
 * operator at B's console acknowledges every alert it is shown. In the
 * middle, one broker node and station instance A are killed -9. At the end
 * every alert must be stored exactly once and acknowledged.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import pg from 'pg'
import mqtt from 'mqtt'
import { Postgres } from './postgres.js'
import { startCityBroker, STATION_USER, postPassword, type CityBrokerKind } from './city-broker.js'
import { SplitFleet } from './split-fleet.js'
import { startStationProcess, openConsole, type StationProcess, type ConsoleSession } from './station-process.js'
import { openStore } from '../../station/store/open-store.js'

export interface CityOptions {
  posts: number
  devices?: number
  /** Seconds of traffic; the kills happen at killAtS. */
  seconds: number
  killAtS: number
  /** Background alerts per second, and bursts (count within burstMs) at these seconds. */
  alertsPerS: number
  bursts: Array<{ atS: number; count: number }>
  burstMs?: number
  stateEveryMs?: number
  testReportEveryMs?: number
  /** How long after the traffic stops every alert must be acknowledged. */
  drainS?: number
  progress?: (line: string) => void
  /** ContractFleet's resubscribeOnResend (default true, as the gateway's uplink does). */
  resubscribeOnResend?: boolean
  /** The clustered station broker (default: CITY_BROKER, else nats). */
  broker?: CityBrokerKind
  /** Load generator processes, each running a slice of the posts (default: CITY_GEN_PROCS, else defaultGenProcs). */
  genProcs?: number
}

/**
 * 4 processes for a city of 1,000 posts or more (2,100 in one process left its event loop up to 6.7 s
 * late, issue 16 §4), 1 below: a 200-post test's generator keeps up alone and starts faster.
 */
export const defaultGenProcs = (posts: number): number => (posts >= 1000 ? 4 : 1)

export interface Percentiles { n: number; p50: number; p99: number; max: number }
export interface NodeUsage { node: string; memMb: number; maxMemMb: number; cpuAvg: number; cpuMax: number; connections: number; killed: boolean }

export interface CityResult {
  posts: number
  devices: number
  seconds: number
  raised: number
  stored: number
  /** Neither stored nor still held by its post: really lost (must be 0). */
  lost: number
  /** Not stored by the end but still in its post's outbox (delayed; the post keeps re-sending it). */
  notYetStored: number
  extraRows: number
  unacked: number
  repeats: number
  idConflicts: number
  unknownAcks: number
  /** Alerts acknowledged in the database whose ack never reached their post by the end of the drain. */
  ackedNotDelivered: number
  reconnects: Percentiles & { postsCut: number }
  console: { before: Percentiles; during: Percentiles; after: Percentiles }
  recoveredAfterMs: number | null
  nodes: NodeUsage[]
  /** Which broker cluster ran (e.g. 'NATS 2.9'). */
  broker: string
  clusterStartMs: number
  fleetConnectMs: number
  messagesPerS: number
  /** Posts still holding unacknowledged alerts at the end (diagnosis), with their count and whether their connection was cut. */
  stillPending: Array<{ post: string; alerts: number; cut: boolean; refusedSubs: string[] }>
  /** Alerts desk B never got on its live feed (by the end), acknowledged from its queue view (the store). */
  shownOnlyInQueue: number
  /** SUBSCRIBE filters the broker refused (SUBACK 0x80) or that failed, over all posts. */
  refusedSubs: number
  /** Post sessions rebuilt (clean connect) after repeated refusals. */
  sessionResets: number
  stationLog: string
  wireOfPending: Array<{ id: string; sends: number; acks: number }>
  /** Event-loop delay of the load generator during the traffic, ms, the worst of its processes: a starved generator misses its own keepalives. */
  loadGenLag: { p99: number; max: number }
  /** Each load generator process: its pid, its posts and its event-loop delay during the traffic, ms. */
  genProcs: Array<{ pid: number; posts: string; lag: { p99: number; max: number; cpuPct: number } }>
  /** Event-loop delay of the run's own process (consoles, operator, kills) during the traffic, ms, and its CPU (% of a core). */
  runnerLag: { p99: number; max: number; cpuPct: number }
  /** The machine's CPU busy during the traffic, % of all cores (every process: the run's and any other work). */
  machineBusyPct: number
  /** Why connected posts lost their connection (ContractFleet lostBy). */
  lostBy: Record<string, number>
}

/** The machine's CPU counters (all cores, all processes): busy and total jiffies, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = f.reduce((s, x) => s + x, 0)
  return { busy: total - f[3] - (f[4] ?? 0), total }
}

export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN)
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN }
}

const SITE = 'city'
export async function runCity(o: CityOptions): Promise<CityResult> {
  const log = o.progress ?? (() => {})
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-city-'))
  const cleanups: Array<() => Promise<unknown> | unknown> = []
  try {
    const postName = (i: number) => `kiosk-${String(i + 1).padStart(4, '0')}`
    const names = Array.from({ length: o.posts }, (_, i) => postName(i))
    const db = await new Postgres().start()
    cleanups.push(() => db.close())
    const kind: CityBrokerKind = o.broker ?? (process.env.CITY_BROKER === 'rabbitmq' ? 'rabbitmq' : 'nats')
    const cluster = await startCityBroker(kind, SITE, names, (p) => `safehouse-${SITE}-${p}`)
    cleanups.push(() => cluster.close())
    log(`${cluster.label} cluster ready in ${cluster.startupMs} ms`)
    const url = await db.database('city')
    const store = await openStore(url, { scryptN: 1024 })
    await store.addOperator('desk-a', 'operator', 'desk-a-password', 'en')
    await store.addOperator('desk-b', 'operator', 'desk-b-password', 'en')
    await store.close()
    const urls = cluster.mqttUrls
    const user = { name: STATION_USER.user, password: STATION_USER.password }
    // RabbitMQ 3.10 closes an MQTT 5 CONNECT without a CONNACK: station and posts are configured for 3.1.1.
    const protocol = cluster.kind === 'rabbitmq' ? '3.1.1' as const : undefined
    // A starts on node 0, B on node 1 (the node killed later: B must fail over).
    const a: StationProcess = await startStationProcess({ dir, name: 'station-a', storeUrl: url, urls: [0, 2, 1].map((i) => urls[i]), user, protocol })
    cleanups.push(() => a.kill())
    const b: StationProcess = await startStationProcess({ dir, name: 'station-b', storeUrl: url, urls: [1, 2, 0].map((i) => urls[i]), user, protocol })
    cleanups.push(() => b.kill())
    let stopping = false
    b.proc.once('exit', (code, sig) => { if (!stopping) log(`station instance B exited (${code ?? sig}): ${b.proc.output.err.slice(-1500)}`) })
    log('two station instances up')

    const seenA = new Map<string, number>()
    const seenB = new Map<string, number>()
    const ackQueue: string[] = []
    let consoleB: ConsoleSession | null = null
    const consoleA = await openConsole(a.consoleUrl, 'desk-a', 'desk-a-password', (e, at) => { if (e.type === 'alert' && !seenA.has(e.alert.id)) seenA.set(e.alert.id, at) })
    cleanups.push(() => consoleA.close())
    consoleB = await openConsole(b.consoleUrl, 'desk-b', 'desk-b-password', (e, at) => {
      if (e.type !== 'alert' || seenB.has(e.alert.id)) return
      seenB.set(e.alert.id, at)
      if (e.alert.ackAt === null) ackQueue.push(e.alert.id)
    })
    cleanups.push(() => consoleB?.close())
    // The operator at desk B acknowledges every alert shown, a few requests at a time.
    let acking = true
    /** Answers to the operator's ack requests, by error (diagnosis: acks refused or timed out). */
    const ackErrors = new Map<string, number>()
    const acker = async () => {
      while (acking) {
        const id = ackQueue.shift()
        if (!id) { await new Promise((r) => setTimeout(r, 20)); continue }
        const r = await consoleB!.ack(id).catch(() => ({ status: 0, error: 'unreachable' }))
        ackErrors.set(r.error ?? String(r.status), (ackErrors.get(r.error ?? String(r.status)) ?? 0) + 1)
        // Refused because the database is down or B is busy: try again later; already acknowledged: done.
        if (r.status !== 200 && r.error !== 'already_acknowledged') { ackQueue.push(id); await new Promise((res) => setTimeout(res, 50)) }
      }
    }
    // Every 5 s the operator also looks at the queue view (from the store), as a desk does: an alert
    // that never came by this instance's live feed is acknowledged from there (counted: shownOnlyInQueue).
    const fromQueue = new Set<string>()
    const sweeper = async () => {
      while (acking) {
        await new Promise((r) => setTimeout(r, 5000))
        const open = await consoleB?.openAlerts().catch(() => [] as string[]) ?? []
        // Those the live feed brought are already on the desk's list unless they waited > 5 s there too.
        for (const id of open) if (!fromQueue.has(id) && !ackQueue.includes(id)) { fromQueue.add(id); ackQueue.push(id) }
      }
    }
    const ackers = [...Array.from({ length: 8 }, acker), sweeper()]
    cleanups.push(async () => { acking = false; await Promise.all(ackers) })

    // Diagnosis: what the broker carries for each alert id (sends seen, acks seen), from node 0.
    const wire = new Map<string, { sends: number; acks: number }>()
    const watcher = await mqtt.connectAsync(urls[0], { protocolVersion: 4, clientId: 'city-watcher', clean: true, username: STATION_USER.user, password: STATION_USER.password })
    cleanups.push(() => watcher.endAsync(true))
    watcher.on('message', (topic, payload) => {
      let id: string | undefined
      try { id = (JSON.parse(payload.toString()) as { id?: string }).id } catch { return }
      if (!id) return
      const w = wire.get(id) ?? { sends: 0, acks: 0 }
      if (topic.endsWith('/ack')) w.acks++
      else w.sends++
      wire.set(id, w)
    })
    await watcher.subscribeAsync([`safehouse/v1/${SITE}/+/alert/+`, `safehouse/v1/${SITE}/+/ack`], { qos: 0 })
    const procs = o.genProcs ?? (process.env.CITY_GEN_PROCS ? Number(process.env.CITY_GEN_PROCS) : defaultGenProcs(o.posts))
    const fleet = new SplitFleet({
      procs, site: SITE, posts: o.posts, devices: o.devices ?? 10, nodes: urls, postName,
      credentials: (p) => ({ username: p, password: postPassword(p) }),
      stateEveryMs: o.stateEveryMs ?? 30_000, testReportEveryMs: o.testReportEveryMs ?? 60_000,
      resubscribeOnResend: o.resubscribeOnResend ?? true,
      ...(protocol ? { protocolVersion: 4 as const } : {}),
    })
    cleanups.push(() => fleet.stop())
    await fleet.ready()
    const c0 = Date.now()
    await fleet.start(600_000)
    const fleetConnectMs = Date.now() - c0
    log(`${o.posts} posts connected in ${fleetConnectMs} ms (${fleet.procs} load generator processes)`)

    // Broker node usage, sampled every 2 s.
    const usage = cluster.nodeNames.map((n) => ({ node: n, mem: 0, maxMem: 0, cpu: [] as number[], connections: 0, killed: false }))
    const sampler = setInterval(() => {
      cluster.nodeNames.forEach((_, i) => void cluster.usage(i).then((u) => {
        if (!u) return
        const x = usage[i]
        x.mem = u.mem
        x.maxMem = Math.max(x.maxMem, u.mem)
        x.cpu.push(u.cpu)
        x.connections = u.connections
      }))
    }, 2000)
    cleanups.push(() => clearInterval(sampler))

    // Traffic: background alerts at alertsPerS, bursts spread over burstMs, the kills at killAtS.
    const lag = monitorEventLoopDelay({ resolution: 20 })
    lag.enable()
    const cpu0 = process.cpuUsage()
    const machine0 = machineCpu()
    fleet.lagStart()
    const t0 = Date.now()
    let killAt = 0
    let recoveredAt: number | null = null
    let sent0 = fleet.stats.sends
    const tick = 100
    const bursts = [...o.bursts]
    let killed = false
    let disconnectsAtKill = 0
    let background = 0
    while (Date.now() - t0 < o.seconds * 1000) {
      const el = (Date.now() - t0) / 1000
      // By elapsed time, not per turn: a turn that runs late (the machine is saturated at city scale)
      // raises what the late time owes, so the run offers the rate it reports.
      for (const due = Math.floor(o.alertsPerS * el); background < due; background++) fleet.raise()
      while (bursts.length && bursts[0].atS <= el) {
        const bu = bursts.shift()!
        const per = Math.ceil(bu.count / ((o.burstMs ?? 1000) / tick))
        let left = bu.count
        const burstTimer = setInterval(() => {
          for (let i = 0; i < per && left > 0; i++, left--) fleet.raise()
          if (left <= 0) clearInterval(burstTimer)
        }, tick)
        log(`burst of ${bu.count} at ${el.toFixed(0)} s`)
      }
      if (!killed && el >= o.killAtS) {
        killed = true
        killAt = Date.now()
        disconnectsAtKill = fleet.stats.disconnects
        await Promise.all([cluster.kill(1), a.kill('SIGKILL')])
        usage[1].killed = true
        log(`killed broker node ${cluster.nodeNames[1]} and station instance A at ${el.toFixed(0)} s (${fleet.stats.connected} posts connected before)`)
      }
      const allBack = fleet.allConnectedSince()
      if (killed && recoveredAt === null && fleet.stats.disconnects > disconnectsAtKill && allBack !== null) {
        recoveredAt = Math.max(killAt, allBack)
        log(`every post reconnected ${recoveredAt - killAt} ms after the kill`)
      }
      await new Promise((r) => setTimeout(r, tick))
    }
    const messagesPerS = (fleet.stats.sends - sent0) / o.seconds
    const cpuUsed = process.cpuUsage(cpu0)
    const runnerCpuPct = (100 * (cpuUsed.user + cpuUsed.system)) / 1000 / (Date.now() - t0)
    const machine1 = machineCpu()
    const machineBusyPct = (100 * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total)
    lag.disable()
    fleet.lagStop()
    sent0 = 0
    log(`traffic done: ${fleet.stats.raised} alerts raised, ${fleet.stats.pending} waiting for an ack`)
    const drainEnd = Date.now() + (o.drainS ?? 120) * 1000
    // Done when every ack is in, or when nothing moved for one ack-timeout round plus slack (every
    // post has re-sent what it holds and the station has re-acked it: waiting longer changes nothing).
    let lastPending = fleet.stats.pending
    let movedAt = Date.now()
    while (fleet.stats.pending > 0 && Date.now() < drainEnd && Date.now() - movedAt < 35_000) {
      await new Promise((r) => setTimeout(r, 200))
      if (fleet.stats.pending !== lastPending) { lastPending = fleet.stats.pending; movedAt = Date.now() }
    }
    const allBack = fleet.allConnectedSince()
    if (recoveredAt === null && fleet.stats.disconnects > disconnectsAtKill && allBack !== null) recoveredAt = Math.max(killAt, allBack)
    // What every post raised and still holds, taken BEFORE the database is read: an alert leaves its
    // outbox only on an ack, which follows its store, so one held by no post by now is stored by then.
    const rep = await fleet.report()
    log(`outages by cause: ${JSON.stringify(rep.stats.lostBy)}`)
    log(`station B's log (last lines): ${b.proc.output.out.slice(-1500)}`)
    log(`drained: ${fleet.stats.pending} still waiting; operator ack answers ${JSON.stringify(Object.fromEntries(ackErrors))}`)

    // The database's word: one row per alert raised, every one acknowledged; no id reused with other bytes.
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const rows = (await c.query<{ id: string; ack_by: string | null }>('SELECT id, ack_by FROM alerts WHERE site = $1', [SITE])).rows
    const conflicts = Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM rejected WHERE reason LIKE '%reused with different content%'")).rows[0].n)
    await c.end()
    const stored = new Map(rows.map((r) => [r.id, r.ack_by]))
    // Every alert raised, sent or not (one raised while its post was cut and never sent is still raised).
    const raised = rep.raisedIds
    const raisedSet = new Set(raised)
    const held = new Set(rep.pendingIds)

    // Alert -> console (desk B's live feed) by when the alert was first sent.
    const phase = { before: [] as number[], during: [] as number[], after: [] as number[] }
    const recovered = recoveredAt ?? Number.POSITIVE_INFINITY
    for (const [id, sentAt] of rep.firstSent) {
      const at = seenB.get(id) ?? (sentAt < killAt ? seenA.get(id) : undefined)
      if (at === undefined) continue
      const bucket = sentAt < killAt ? phase.before : sentAt < recovered ? phase.during : phase.after
      bucket.push(at - sentAt)
    }
    const cut = rep.stats.reconnectMs
    stopping = true
    const result: CityResult = {
      posts: o.posts,
      devices: o.devices ?? 10,
      seconds: o.seconds,
      raised: raised.length,
      stored: rows.length,
      lost: raised.filter((id) => !stored.has(id) && !held.has(id)).length,
      notYetStored: raised.filter((id) => !stored.has(id) && held.has(id)).length,
      extraRows: rows.filter((r) => !raisedSet.has(r.id)).length,
      unacked: rows.filter((r) => r.ack_by === null).length,
      repeats: rep.stats.repeats,
      idConflicts: conflicts,
      unknownAcks: rep.stats.unknownAcks,
      refusedSubs: rep.stats.refusedSubs,
      shownOnlyInQueue: [...fromQueue].filter((id) => !seenB.has(id)).length,
      sessionResets: rep.stats.sessionResets,
      ackedNotDelivered: rep.pendingIds.filter((id) => stored.get(id)).length,
      reconnects: { ...percentiles(cut), postsCut: cut.length },
      console: { before: percentiles(phase.before), during: percentiles(phase.during), after: percentiles(phase.after) },
      recoveredAfterMs: recoveredAt === null ? null : recoveredAt - killAt,
      nodes: usage.map((u) => ({ node: u.node, memMb: u.mem / 2 ** 20, maxMemMb: u.maxMem / 2 ** 20, cpuAvg: u.cpu.length ? u.cpu.reduce((s, x) => s + x, 0) / u.cpu.length : NaN, cpuMax: u.cpu.length ? Math.max(...u.cpu) : NaN, connections: u.connections, killed: u.killed })),
      broker: cluster.label,
      clusterStartMs: cluster.startupMs,
      fleetConnectMs,
      messagesPerS,
      stillPending: rep.stillPending,
      stationLog: b.proc.output.err.slice(-3000),
      loadGenLag: { p99: Math.max(...rep.slices.map((x) => x.lag.p99)), max: Math.max(...rep.slices.map((x) => x.lag.max)) },
      genProcs: rep.slices,
      runnerLag: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6, cpuPct: runnerCpuPct },
      machineBusyPct,
      lostBy: rep.stats.lostBy,
      wireOfPending: rep.pendingIds.slice(0, 20).map((id) => ({ id, ...(wire.get(id) ?? { sends: 0, acks: 0 }) })),
    }
    if (result.ackedNotDelivered && process.env.CITY_DIAGNOSE) {
      const stuck = result.stillPending.slice(0, 4).map((p) => p.post)
      const healthy = rep.healthyCut ?? undefined
      for (const l of cluster.logLines()) log(`log ${l}`)
      for (const p of [...stuck, ...(healthy ? [healthy] : [])]) log(`diagnosis ${p === healthy ? '(healthy, cut) ' : ''}${JSON.stringify(await cluster.diagnose(`safehouse-${SITE}-${p}`))}`)
    }
    log(`result ${JSON.stringify(result)}`)
    return result
  } finally {
    // Each step bounded: a cleanup that hangs (a client mid-connect to a dead node) must not hold the run.
    for (const f of cleanups.reverse()) await Promise.race([Promise.resolve().then(f).catch(() => {}), new Promise((r) => setTimeout(r, 15_000).unref())])
    rmSync(dir, { recursive: true, force: true })
  }
}
