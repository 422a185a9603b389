/**
 * Issue 6 §7: how long a post takes to empty its outbox when the station comes
 * back after an outage. A real mosquitto is the station, a station console
 * acknowledges every alert it receives, the gateway runs in process with the
 * durable file outbox. Each run: station down -> BACKLOG alerts raised (five
 * devices) and made durable -> station up -> timed from the uplink's reconnect
 * until the outbox is empty (every alert sent, received, acknowledged, the ack
 * processed). Memory is read with the backlog held.
 *
 *   node --import tsx bench/drain.ts [runs] [backlog]      (default 9 runs of 10,000)
 *   DRAIN_DEFAULT_BROKER=0 skips the extra run against a default-configured mosquitto
 *
 * Prints a Markdown section.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import mqtt from 'mqtt'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { Kind } from '../protocols/event-kinds.js'
import { machineLine, median, ms, summarize } from './bench-stats.js'

const RUNS = Number(process.argv[2] ?? 9)
const BACKLOG = Number(process.argv[3] ?? 10_000)
/** A comparison run against an unlimited station queue; DRAIN_UNLIMITED=0 skips it. */
const DEFAULT_BROKER_RUN = process.env.DRAIN_UNLIMITED !== '0'
const DEVICES = ['btn-1', 'btn-2', 'btn-3', 'btn-4', 'btn-5']

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const mib = (b: number): string => (b / 1048576).toFixed(1)

interface Run {
  drainMs: number
  /** Reconnect -> the last alert at the console. */
  arriveMs: number
  rate: number
  repeats: number
  resends: number
  rssBase: number
  heapBase: number
  rssBacklog: number
  heapBacklog: number
  /** Buffers outside the JS heap (payloads) with the backlog, minus before. */
  externalGrowth: number
  rssPeak: number
}

/** Poll fast (1 ms) so the figure is not rounded up to a coarse poll interval. */
async function waitFor(cond: () => boolean, what: string, limitMs: number, each?: () => void): Promise<number> {
  const t0 = performance.now()
  while (!cond()) {
    each?.()
    if (performance.now() - t0 > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
  return performance.now()
}

async function oneRun(mosq: Mosquitto, post: string): Promise<Run> {
  // The console: a persistent session, so its subscription outlives the broker's restart.
  const seen = new Set<string>()
  let repeats = 0
  const console_ = await mqtt.connectAsync(mosq.url, { clientId: `bench-console-${post}`, clean: false, reconnectPeriod: 100, protocolVersion: 4 })
  console_.on('message', (topic, p) => {
    const id = (JSON.parse(p.toString()) as { id: string }).id
    if (seen.has(id)) repeats++
    else seen.add(id)
    console_.publish(topic.slice(0, topic.indexOf('/alert/')) + '/ack', JSON.stringify({ id, by: 'bench' }), { qos: 1 })
  })
  await console_.subscribeAsync(`safehouse/v1/test-city/${post}/alert/+`, { qos: 1 })
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    post,
    outbox: 'file',
    extra: { devices: DEVICES.map((id) => ({ id, kind: 'panic-button', driver: 'sim' })) },
  })
  try {
    await gw.start()
    await until(() => gw.uplink.connected, 'the uplink', 15_000)
    await mosq.stop()
    await until(() => !gw.uplink.connected, 'the uplink to notice the outage', 15_000)
    gc(); gc()
    const base = process.memoryUsage()
    const idx = DEVICES.map((d) => gw.devices.indexOf(d))
    const hw0 = Date.now()
    for (let k = 0; k < BACKLOG; k++) {
      gw.core.input(idx[k % idx.length], Kind.PANIC, k + 1, hw0 + Math.floor(k / idx.length), Number.NaN, k + 1)
      if (k % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    await until(() => gw.outbox.pending().length >= BACKLOG, 'the backlog to be durable', 60_000)
    gc(); gc()
    const held = process.memoryUsage()
    await mosq.start()
    let rssPeak = held.rss
    const sampleRss = (): void => { const r = process.memoryUsage.rss(); if (r > rssPeak) rssPeak = r }
    const connectedAt = await waitFor(() => gw.uplink.connected, 'the uplink to reconnect', 30_000, sampleRss)
    const arrivedAt = await waitFor(() => seen.size >= BACKLOG, 'the backlog at the console', 300_000, sampleRss)
    const drainedAt = await waitFor(() => gw.outbox.stats().depth === 0, 'the outbox to drain', 300_000, sampleRss)
    const drainMs = drainedAt - connectedAt
    return {
      drainMs,
      arriveMs: arrivedAt - connectedAt,
      rate: BACKLOG / (drainMs / 1000),
      repeats,
      resends: gw.ackWatcher.resends,
      rssBase: base.rss,
      heapBase: base.heapUsed,
      rssBacklog: held.rss,
      heapBacklog: held.heapUsed,
      externalGrowth: held.external - base.external,
      rssPeak,
    }
  } finally {
    await cleanup()
    await console_.endAsync(true)
  }
}

// Mosquitto with its default per-client queue (max_queued_messages 1000), as a station would run
// it: the gateway's send window (gateway/uplink/send-window.ts) keeps the replay within it.
const tuned = await new Mosquitto({ persistent: true }).start()
const runs: Run[] = []
try {
  await oneRun(tuned, 'warmup') // JIT, tsx, first mosquitto session: not counted
  for (let i = 0; i < RUNS; i++) {
    runs.push(await oneRun(tuned, `run-${i + 1}`))
    process.stderr.write(`drain: run ${i + 1}/${RUNS}: ${runs[i].drainMs.toFixed(0)} ms\n`)
  }
} finally {
  await tuned.close()
}
let plain: Run | null = null
if (DEFAULT_BROKER_RUN) {
  const defaults = await new Mosquitto({ persistent: true, extraConf: 'max_queued_messages 0' }).start()
  try {
    plain = await oneRun(defaults, 'defaults')
    process.stderr.write(`drain: unlimited mosquitto queue: ${plain.drainMs.toFixed(0)} ms\n`)
  } finally {
    await defaults.close()
  }
}

const d = summarize(runs.map((r) => r.drainMs))
const a = summarize(runs.map((r) => r.arriveMs))
const rates = runs.map((r) => r.rate)
const n = BACKLOG.toLocaleString('en')
const lines = [
  `## Outbox drain after a station outage (bench/drain.ts)`,
  '',
  `${machineLine()}. Command: \`node --import tsx bench/drain.ts ${RUNS} ${BACKLOG}\`.`,
  `Gateway in process, file outbox (fdatasync per batch) in the OS temp dir; station = mosquitto 2 on loopback (persistent, default max_queued_messages 1000); send window 500;`,
  `a station console acks every alert. Each run: station stopped, ${n} alerts from ${DEVICES.length} devices made durable, station started;`,
  `timed from the uplink's reconnect until the outbox is empty (all sent, received, acknowledged, acks processed). One warm-up run discarded.`,
  '',
  `| runs | backlog | drain median ms | drain p99 ms | drain max ms | all at console, median ms | alerts/s median | alerts/s worst | repeats | ack-timeout resends |`,
  `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  `| ${runs.length} | ${n} | ${ms(d.p50)} | ${ms(d.p99)} | ${ms(d.max)} | ${ms(a.p50)} | ${Math.round(median(rates))} | ${Math.round(Math.min(...rates))} | ${runs.reduce((s, r) => s + r.repeats, 0)} | ${runs.reduce((s, r) => s + r.resends, 0)} |`,
  '',
  `(p99 of ${runs.length} runs is the slowest run.)`,
  '',
  `Memory of the whole bench process (gateway + console client), after GC: RSS ${mib(median(runs.map((r) => r.rssBase)))} MiB / heap ${mib(median(runs.map((r) => r.heapBase)))} MiB ` +
    `before the outage; with the ${n}-alert backlog held: RSS ${mib(median(runs.map((r) => r.rssBacklog)))} MiB / heap ${mib(median(runs.map((r) => r.heapBacklog)))} MiB ` +
    `(heap +${mib(median(runs.map((r) => r.heapBacklog - r.heapBase)))} MiB, buffers outside the heap +${mib(median(runs.map((r) => r.externalGrowth)))} MiB); peak RSS while draining ${mib(median(runs.map((r) => r.rssPeak)))} MiB (medians over the runs).`,
]
if (plain) {
  lines.push('',
    `The same with an unlimited station queue (max_queued_messages 0), one run: drain ${ms(plain.drainMs)} ms ` +
    `(${Math.round(plain.rate)} alerts/s), the last alert at the console after ${ms(plain.arriveMs)} ms, ${plain.repeats} repeats, ${plain.resends} ack-timeout resends. ` +
    `Before the send window, a default mosquitto dropped most of such a burst and the drain took about 38 s (258 alerts/s) through the ack-timeout resend.`)
}
console.log(lines.join('\n'))
process.exit(0)
