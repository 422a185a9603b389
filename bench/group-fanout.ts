/**
 * Issue 6 §7: group fan-out latency, from a press at one post to the local
 * screen of a neighbouring post (a panel subscriber on that post's embedded
 * broker) — three posts in one process, a real mosquitto as the station.
 * Three ways: both paths (station up, direct links: the first copy wins),
 * the direct links alone (station stopped), the station broker alone (no links).
 * The sim button has debounce_ms 0, so the figure is the gateway's and the network's.
 */
import { Mosquitto } from '../test/harness/mosquitto.js'
import { until } from '../test/harness/test-gateway.js'
import { startGroup, type GroupPost } from '../test/harness/group-posts.js'
import { summarize, ms, machineLine } from './bench-stats.js'

const PRESSES = Number(process.argv[2] ?? 500)
const WARMUP = 30
const extra = {
  core: { dedupe_ms: 0 },
  devices: [{ id: 'counter-button', kind: 'panic-button', driver: 'sim', debounce_ms: 0 }, { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' }],
}
const teardowns: (() => unknown)[] = []
const owner = { teardown: (f: () => unknown) => { teardowns.push(f) } }

async function measure(posts: GroupPost[]): Promise<number[]> {
  const [from, to] = posts
  const button = from.gw.twins.get('counter-button')!
  const samples: number[] = []
  for (let i = 0; i < PRESSES + WARMUP; i++) {
    const before = to.seen.length
    const t0 = process.hrtime.bigint()
    button.act('hold', 2) // released after 2 ms, ready for the next press
    await until(() => to.seen.length > before, `press ${i} at ${to.post}`, 5000).catch((e) => {
      console.error(posts.map((p) => [p.post, p.seen.length, p.gw.uplink.state, JSON.stringify(p.gw.group?.fanout.counters), JSON.stringify(p.gw.core.counters)]))
      throw e
    })
    if (i >= WARMUP) samples.push(Number(to.seen[before].at - t0) / 1e6)
    await new Promise((r) => setTimeout(r, 10))
    for (const e of from.gw.outbox.pending()) from.gw.outbox.ack(e.id) // as the station's acks would
  }
  return samples
}

const rows: string[] = []
const row = (name: string, s: number[]): void => {
  const x = summarize(s)
  rows.push(`| ${name} | ${x.n} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} |`)
}

const mosq = await new Mosquitto().start()
const viaStation = await startGroup(owner, mosq.url, { extra, linked: false, posts: ['kiosk-011', 'kiosk-012', 'kiosk-013'] })
const stationOnly = await measure(viaStation)
for (const f of teardowns.splice(0).reverse()) await f()

const linked = await startGroup(owner, mosq.url, { extra })
row('both paths (station up, direct links)', await measure(linked))
await mosq.stop()
for (const p of linked) await until(() => !p.gw.uplink.connected, 'the station gone', 30_000)
row('direct links only (station down)', await measure(linked))
row('station broker only (no direct links)', stationOnly)
for (const f of teardowns.splice(0).reverse()) await f()
await mosq.close()

console.log(`## Group fan-out: press at one post -> a neighbour's local screen (bench/group-fanout.ts)

${machineLine()}. Command: \`node --import tsx bench/group-fanout.ts ${PRESSES}\`.
Three posts (in-process gateways, each with its own aedes broker on loopback), mosquitto as the station.
Sim button with debounce_ms 0; ${WARMUP} warm-up presses discarded per row. Target: within a second.

| path | presses | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
${rows.join('\n')}
`)
process.exit(0)
