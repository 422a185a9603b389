/**
 * Alert latency (issue 2 §12 b, c): from an input injected into the event
 * core to the MQTT `message` event at each subscriber, per delivery, at 1, 10
 * and 100 subscribers, on three paths side by side in one run:
 *
 *   local     core.input -> embedded broker (aedes, in process) -> N mqtt.js subscribers
 *   station   core.input -> outbox (memory) -> uplink (mqtt.js, QoS 1) -> mosquitto -> N subscribers
 *   reference the same payload bytes published straight into mosquitto by a plain
 *             mqtt.js client (QoS 1) -> N subscribers: what mqtt.js + mosquitto cost alone
 *
 * Every subscriber runs in this process (the stamps are `performance.now()`
 * values kept by alert id; each subscriber parses the JSON to find the id),
 * so subscriber-side parsing is on the same event loop as the gateway on
 * every path, the reference included. Alerts go one at a time: the next is
 * injected ~1 ms after every subscriber has the previous one. Subscriptions
 * are QoS 1 everywhere (alerts are QoS 1, DESIGN §5).
 *
 *   node --import tsx --expose-gc bench/latency.ts [--events=N] [--warmup=N] [--subs=1,10,100]
 *                                                  [--paths=local,station,reference]
 *
 * `--procs=separate [--rounds=N]` (issue 13 §1): the gateway and the reference publisher each in
 * their own process, as in production, the subscribers here; station and reference alternate for
 * N rounds (default 5) at the first --subs value. See bench/latency-separate.ts.
 * `--baseline=DIR` (separate mode): DIR's gateway (another checkout, its node_modules in place) runs in
 * the same rounds beside this tree's, for a before/after in one run (issue 13 §1).
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { USERS } from '../test/harness/test-gateway.js'
import { startAlertGateway } from './latency-gateway.js'
import { summarize, ms, machineLine, type Summary } from './bench-stats.js'
import { noDelay } from '../gateway/reconnect.js'
import { runSeparate, type SeparateRow } from './latency-separate.js'

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const SUBS = (arg('subs') ?? '1,10,100').split(',').map(Number)
/** Events per configuration after warm-up: more where they are cheap, so p99.9 rests on more samples. */
const EVENTS = (n: number): number => Number(arg('events') ?? (n <= 1 ? 3000 : n <= 10 ? 2000 : 1000))
const WARMUP = Number(arg('warmup') ?? 200)
/** Which paths to run (default all); the reference republishes the station run's payloads, so it needs `station`. */
const PATHS = new Set((arg('paths') ?? 'local,station,reference').split(','))
if (PATHS.has('reference') && !PATHS.has('station')) throw new Error('--paths: reference needs station (it republishes the payloads of the station run)')
const SEPARATE = arg('procs') === 'separate'
const ROUNDS = Number(arg('rounds') ?? 5)
/** --procs=separate only: another checkout's gateway in the same rounds (before/after in one run). */
const BASELINE = arg('baseline')
const GAP_MS = 1
const EVENT_TIMEOUT_MS = 5000
const TARGET_LOCAL_P99_MS = 1
const TARGET_RATIO = 1.5

let loadBefore = 0
const log = (msg: string): void => { process.stderr.write(`[latency] ${msg}\n`) }

interface Pending { t0: number; remaining: number; seen: Uint8Array; done: () => void }

/** Stamps by alert id; subscribers resolve them. One alert in flight at a time. */
class Tracker {
  readonly stamps = new Map<string, Pending>()
  samples = new Float64Array(0)
  count = 0
  measuring = false
  lost = 0
  strays = 0
  duplicates = 0

  reset(capacity: number): void {
    this.samples = new Float64Array(capacity)
    this.count = 0
    this.lost = 0
    this.strays = 0
    this.duplicates = 0
  }

  /** Subscriber `sub` got `payload` at `now`. */
  deliver(sub: number, payload: Buffer, now: number): void {
    const id = (JSON.parse(payload.toString()) as { id: string }).id
    const p = this.stamps.get(id)
    if (!p) { this.strays++; return }
    if (p.seen[sub]) { this.duplicates++; return }
    p.seen[sub] = 1
    if (this.measuring) this.samples[this.count++] = now - p.t0
    if (--p.remaining === 0) {
      this.stamps.delete(id)
      p.done()
    }
  }

  /** Stamp, send, wait until all `subs` subscribers have it (or time out), then a short gap. */
  async one(subs: number, send: () => string): Promise<void> {
    let done!: () => void
    const all = new Promise<void>((r) => { done = r })
    const t0 = performance.now()
    const id = send()
    // Safe after send(): no subscriber can see the message before this synchronous code ends.
    this.stamps.set(id, { t0, remaining: subs, seen: new Uint8Array(subs), done })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((r) => { timer = setTimeout(() => r(true), EVENT_TIMEOUT_MS) })
    if (await Promise.race([all.then(() => false), timedOut])) {
      const p = this.stamps.get(id)
      this.lost += p?.remaining ?? 0
      this.stamps.delete(id)
    }
    clearTimeout(timer)
    await sleep(GAP_MS)
  }
}

async function connectSubscribers(n: number, url: string, filter: string, opts: IClientOptions, tracker: Tracker, tag: string): Promise<MqttClient[]> {
  const clients: MqttClient[] = []
  // Batches of 10: a connect storm of 100 would mostly measure aedes' password checks.
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, async (_, k) => {
        const sub = i + k
        const c = noDelay(await mqtt.connectAsync(url, { ...opts, clientId: `bench-${tag}-${sub}`, reconnectPeriod: 0, clean: true }))
        c.on('message', (_topic, payload) => tracker.deliver(sub, payload, performance.now()))
        const granted = await c.subscribeAsync(filter, { qos: 1 })
        if (granted[0]?.qos !== 1) throw new Error(`${tag} subscriber ${sub}: subscription to ${filter} not granted at QoS 1 (${JSON.stringify(granted)})`)
        return c
      }),
    )
    clients.push(...batch)
  }
  return clients
}

async function closeAll(clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true)))
}

interface Row { path: string; subs: number; events: number; s: Summary; lost: number; strays: number; duplicates: number; seconds: number }

async function main(): Promise<void> {
  const started = performance.now()
  loadBefore = os.loadavg()[0]
  if (SEPARATE) {
    const mosq = await new Mosquitto().start()
    try {
      const rows = await runSeparate(mosq, { subs: SUBS[0], events: EVENTS(SUBS[0]), warmup: WARMUP, gapMs: GAP_MS, rounds: ROUNDS, log, baseline: BASELINE })
      printSeparate(rows, (performance.now() - started) / 1000)
    } finally {
      await mosq.close()
    }
    return
  }
  const mosq = await new Mosquitto().start()
  const { gw, cleanup, inject } = await startAlertGateway(mosq.url, Math.max(...SUBS) + 16)
  const rows: Row[] = []
  try {
    const alertTopic = gw.topics.alert('counter-button')
    const alertFilter = alertTopic.replace(/\/[^/]+$/, '/+')
    const localUrl = `mqtt://127.0.0.1:${gw.broker.port}`
    const panel = { username: USERS.panel.username, password: USERS.panel.password, protocolVersion: 4 as const }
    const station = { protocolVersion: 4 as const }
    const tracker = new Tracker()
    /** During the station run: the payload bytes of each alert, for the reference to republish. */
    let recorded: Buffer[] | null = null

    /** Inject one panic alert into the core; during the station run, keep its bytes for the reference. */
    const injectAlert = (): string => {
      const { id, payload } = inject()
      recorded?.push(payload)
      return id
    }

    const run = async (path: string, subs: number, clients: MqttClient[], send: () => string, events: number): Promise<void> => {
      const t = performance.now()
      tracker.measuring = false
      tracker.reset(events * subs)
      for (let i = 0; i < WARMUP; i++) await tracker.one(subs, send)
      ;(globalThis as { gc?: () => void }).gc?.()
      await sleep(20)
      tracker.lost = 0
      tracker.measuring = true
      for (let i = 0; i < events; i++) await tracker.one(subs, send)
      tracker.measuring = false
      const seconds = (performance.now() - t) / 1000
      const s = summarize(tracker.samples, tracker.count)
      rows.push({ path, subs, events, s, lost: tracker.lost, strays: tracker.strays, duplicates: tracker.duplicates, seconds })
      log(`${path} x${subs}: ${events} events, ${s.n} deliveries, p50 ${ms(s.p50)} p99 ${ms(s.p99)} p99.9 ${ms(s.p999)} ms, lost ${tracker.lost} (${seconds.toFixed(1)} s)`)
      await closeAll(clients)
      await sleep(50)
    }

    for (const subs of SUBS) {
      const events = EVENTS(subs)
      // (i) twin input -> subscriber of the embedded broker
      if (PATHS.has('local')) {
        const clients = await connectSubscribers(subs, localUrl, alertFilter, panel, tracker, 'local')
        await run('twin -> embedded broker', subs, clients, injectAlert, events)
      }
      if (!PATHS.has('station')) continue

      // (ii) twin input -> station subscriber through mosquitto; record the payloads for the reference
      let clients = await connectSubscribers(subs, mosq.url, alertFilter, station, tracker, 'station')
      recorded = []
      await run('twin -> uplink -> mosquitto', subs, clients, injectAlert, events)
      const payloads = recorded
      recorded = null

      if (!PATHS.has('reference')) continue
      // (c) the same bytes, published straight into mosquitto by a plain mqtt.js client (QoS 1, MQTT 5 like the uplink)
      const ids = payloads.map((p) => (JSON.parse(p.toString()) as { id: string }).id)
      // The reference publisher writes without Nagle too, as the gateway's uplink does (issue 13 §1).
      const pub = noDelay(await mqtt.connectAsync(mosq.url, { clientId: 'bench-reference-pub', protocolVersion: 5, reconnectPeriod: 0 }))
      clients = await connectSubscribers(subs, mosq.url, alertFilter, station, tracker, 'reference')
      let next = 0
      const publishRecorded = (): string => {
        const i = next++ % payloads.length
        pub.publish(alertTopic, payloads[i], { qos: 1 })
        return ids[i]
      }
      await run('reference: mqtt.js -> mosquitto', subs, clients, publishRecorded, events)
      await pub.endAsync(true)
    }
  } finally {
    await cleanup()
    await mosq.close()
  }
  print(rows, (performance.now() - started) / 1000)
}

function print(rows: Row[], seconds: number): void {
  const out: string[] = []
  out.push('## Alert latency: input -> subscribers (bench/latency.ts)', '')
  out.push(`${machineLine()}; mosquitto from the OS package. 1-min load average ${loadBefore.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end (other work on the machine inflates the tails).`, '')
  out.push(
    'Per delivery, from `core.input()` (a panic alert injected into the event core, as a twin or driver does) to the',
    '`message` event at each mqtt.js subscriber, which parses the JSON to match the alert id. All subscribers receive',
    `every alert (QoS 1). One alert at a time, the next ${GAP_MS} ms after all subscribers have it; ${WARMUP} warm-up alerts`,
    'per configuration are discarded. Subscribers, gateway and reference publisher share one Node process (2 cores:',
    'mosquitto gets the other). Outbox kind `memory`; logger silent. *reference* republishes the very payload bytes the',
    'gateway produced in the station run, from a plain mqtt.js client straight into the same mosquitto.',
    '',
  )
  out.push('| path | subscribers | alerts | deliveries | p50 ms | p99 ms | p99.9 ms | max ms | lost |')
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const lost = r.lost + (r.duplicates ? ` (+${r.duplicates} dup)` : '')
    out.push(`| ${r.path} | ${r.subs} | ${r.events} | ${r.s.n} | ${ms(r.s.p50)} | ${ms(r.s.p99)} | ${ms(r.s.p999)} | ${ms(r.s.max)} | ${lost} |`)
  }
  out.push('', '**Targets** (issue 2 §12):', '')
  out.push('| target | measured | result |', '|---|---|---|')
  const find = (prefix: string, subs: number): Row | undefined => rows.find((r) => r.path.startsWith(prefix) && r.subs === subs)
  const local1 = find('twin -> embedded', 1)
  if (local1) {
    const ok = local1.s.p99 <= TARGET_LOCAL_P99_MS
    out.push(`| p99 <= ${TARGET_LOCAL_P99_MS} ms, input -> local subscriber, 1 subscriber | p99 ${ms(local1.s.p99)} ms | ${ok ? 'met' : '**missed**'} |`)
  }
  const big = Math.max(...rows.map((r) => r.subs))
  const ref = find('reference', big)
  for (const [prefix, name] of [['twin -> embedded', 'local subscribers'], ['twin -> uplink', 'station subscribers']] as const) {
    const r = find(prefix, big)
    if (!r || !ref) continue
    const ratio = r.s.p99 / ref.s.p99
    out.push(`| p99 at ${big} ${name} <= ${TARGET_RATIO}x reference p99 (${ms(ref.s.p99)} ms) | p99 ${ms(r.s.p99)} ms = ${ratio.toFixed(2)}x | ${ratio <= TARGET_RATIO ? 'met' : '**missed**'} |`)
  }
  const lost = rows.reduce((a, r) => a + r.lost, 0)
  const strays = rows.reduce((a, r) => a + r.strays, 0)
  out.push('', `Deliveries lost (not received within ${EVENT_TIMEOUT_MS / 1000} s): ${lost}; unmatched messages: ${strays}. Wall time ${seconds.toFixed(0)} s.`)
  process.stdout.write(out.join('\n') + '\n')
}

function printSeparate(rows: SeparateRow[], seconds: number): void {
  const out: string[] = []
  out.push('## Alert latency, publishers in their own processes (bench/latency.ts --procs=separate)', '')
  out.push(`${machineLine()}; mosquitto from the OS package. 1-min load average ${loadBefore.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end.`, '')
  out.push(
    'The gateway (station path) and the reference publisher each run in their own Node process, forked the same way;',
    'the subscribers run in the bench process. Latency is CLOCK_MONOTONIC from just before `core.input()` (gateway) or',
    '`publish()` (reference), in the publisher\'s process, to the subscriber\'s `message` event. Station and reference',
    `alternate, ${ROUNDS} rounds in one run; the reference republishes the payload bytes of the station round before it.`,
    '',
  )
  out.push('| round | path | subscribers | alerts | deliveries | p50 ms | p99 ms | p99.9 ms | max ms | lost | publisher CPU µs/alert |')
  out.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) out.push(`| ${r.round} | ${r.path} | ${r.subs} | ${r.events} | ${r.s.n} | ${ms(r.s.p50)} | ${ms(r.s.p99)} | ${ms(r.s.p999)} | ${ms(r.s.max)} | ${r.lost} | ${Number.isNaN(r.cpuUsPerAlert) ? '-' : r.cpuUsPerAlert.toFixed(0)} |`)
  const ratios: number[] = []
  const p50s: number[] = []
  const baseRatios: number[] = []
  const baseP50s: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const st = rows.find((r) => r.round === round && r.path.startsWith('twin'))
    const ref = rows.find((r) => r.round === round && r.path.startsWith('reference'))
    if (st && ref) { ratios.push(st.s.p99 / ref.s.p99); p50s.push(st.s.p50 / ref.s.p50) }
    const base = rows.find((r) => r.round === round && r.path.startsWith('baseline'))
    if (base && ref) { baseRatios.push(base.s.p99 / ref.s.p99); baseP50s.push(base.s.p50 / ref.s.p50) }
  }
  const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN }
  const m = median(ratios)
  out.push('', `p99 ratio station/reference per round: ${ratios.map((r) => r.toFixed(2) + 'x').join(', ')}; median **${m.toFixed(2)}x** (target ${TARGET_RATIO}x: ${m <= TARGET_RATIO ? 'met' : '**missed**'}). p50 ratio median ${median(p50s).toFixed(2)}x. Wall time ${seconds.toFixed(0)} s.`)
  const cpu = (prefix: string): string => median(rows.filter((r) => r.path.startsWith(prefix)).map((r) => r.cpuUsPerAlert)).toFixed(0)
  out.push('', `Publisher process CPU per alert (user + system, everything in that process incl. IPC; median of rounds): station ${cpu('twin')} µs, reference ${cpu('reference')} µs${BASELINE ? `, baseline ${cpu('baseline')} µs` : ''}.`)
  if (BASELINE) {
    out.push('', `Baseline checkout ${BASELINE} in the same rounds (order new, base in odd rounds, base, new in even ones): p99 ratio baseline/reference per round ${baseRatios.map((r) => r.toFixed(2) + 'x').join(', ')}; median **${median(baseRatios).toFixed(2)}x**; p50 ratio median ${median(baseP50s).toFixed(2)}x.`)
  }
  process.stdout.write(out.join('\n') + '\n')
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`latency bench failed: ${(e as Error).stack ?? String(e)}\n`)
    process.exit(1)
  },
)
