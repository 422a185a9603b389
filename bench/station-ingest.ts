/**
 * Issue 15: the station service's ingest at city scale, into SQLite and into
 * PostgreSQL. 2,100 posts x 10 devices (device state every 30 s, a test report
 * every 60 s per post: 735 messages/s in real time) with time compressed: the
 * messages are published as fast as mosquitto takes them and we measure what
 * ingest sustains (messages/s taken in and written). Then bursts of 1,000
 * alerts within a second: alert-to-stored latency (sent_time on the publisher
 * -> the row written, seen on the live feed, which fires after the insert).
 * Service memory: RSS and heap of this process (service + publishers).
 *
 *   node --import tsx bench/station-ingest.ts [posts=2100] [cycles=1]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { Mosquitto } from '../test/harness/mosquitto.js'
import { Postgres } from '../test/harness/postgres.js'
import { StationService } from '../station/station-service.js'
import { summarize, ms, machineLine } from './bench-stats.js'

const POSTS = Number(process.argv[2] ?? 2100)
const CYCLES = Number(process.argv[3] ?? 1)
const DEVICES = 10
const BURST = 1000

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await wait(5)
  }
}

const post = (i: number) => `k-${i}`
const deviceState = (d: number, now: number) => JSON.stringify({ v: 1, device: `d-${d}`, device_kind: d === 0 ? 'lamp-box' : d < 5 ? 'panic-button' : 'ble-whistle', status: 'online', last_seen: now, battery: 80, rssi: -60, faults: [], counters: {} })

interface Row { store: string; messages: number; seconds: number; perS: number; burst: { p50: number; p99: number; max: number; n: number; seconds: number }; rssMb: number; heapMb: number }

async function run(kind: 'sqlite' | 'postgres', storeUrl: string, mosq: Mosquitto): Promise<Row> {
  const svc = new StationService({
    storeUrl, broker: { url: mosq.url, username: null, password: null, caFile: null, clientId: `bench-${kind}`, sites: [] },
    web: null, timeZone: 'UTC', unknownPostGraceMs: 10_000,
  })
  await svc.start()
  const pubs: MqttClient[] = []
  for (let i = 0; i < 4; i++) pubs.push(await mqtt.connectAsync(mosq.url, { clientId: `bench-pub-${kind}-${i}`, protocolVersion: 5 }))
  const pubFor = (i: number) => pubs[i % pubs.length]
  // Every post online (retained status), so its alerts are accepted.
  const now = Date.now()
  await Promise.all(Array.from({ length: POSTS }, (_, i) => pubFor(i).publishAsync(`safehouse/v1/city/${post(i)}/status`, JSON.stringify({ v: 1, state: 'online', since: now }), { qos: 1, retain: true })))
  await until(() => Array.from({ length: POSTS }).every((_, i) => svc.ingest.isKnown('city', post(i))), 'all posts known', 120_000)
  await svc.ingest.writer.flush(120_000)

  // Steady state, compressed: CYCLES x (every device's state twice (30 s) + one test report (60 s) per post).
  const before = svc.counters.get('messages')
  const total = CYCLES * POSTS * (2 * DEVICES + 1)
  const t0 = performance.now()
  const inflight: Promise<unknown>[] = []
  for (let c = 0; c < CYCLES; c++) {
    for (let half = 0; half < 2; half++) {
      for (let i = 0; i < POSTS; i++) {
        const p = pubFor(i)
        for (let d = 0; d < DEVICES; d++) inflight.push(p.publishAsync(`safehouse/v1/city/${post(i)}/device/d-${d}/state`, deviceState(d, Date.now()), { qos: 1, retain: true }))
        if (half === 0) inflight.push(p.publishAsync(`safehouse/v1/city/${post(i)}/test-report`, JSON.stringify({ v: 1, post: post(i), time: Date.now(), interval_s: 60, outbox_depth: 0 }), { qos: 1 }))
        if (inflight.length > 2000) await Promise.all(inflight.splice(0))
      }
    }
  }
  await Promise.all(inflight)
  await until(() => svc.counters.get('messages') - before >= total, `${total} messages taken in`, 600_000)
  await svc.ingest.writer.flush(600_000)
  const seconds = (performance.now() - t0) / 1000

  // Alert bursts: 1,000 alerts within a second, from random posts; latency sent_time -> stored.
  const lat: number[] = []
  const off = svc.live.subscribe((_s, e) => { if (e.type === 'alert' && e.alert.site === 'city') lat.push(Date.now() - e.alert.sentTime) })
  let seq = 1
  const tb = performance.now()
  for (let b = 0; b < 3; b++) {
    const start = Date.now()
    for (let k = 0; k < BURST; k++) {
      const i = (k * 7919 + b) % POSTS
      const s = seq++
      const at = Date.now()
      void pubFor(i).publishAsync(`safehouse/v1/city/${post(i)}/alert/d-1`, JSON.stringify({ v: 1, id: `city:${post(i)}:${s}`, site: 'city', post: post(i), device: 'd-1', device_kind: 'panic-button', kind: 'panic', seq: s, value: 1, rssi: null, hw_time: at, sent_time: at, test: false }), { qos: 1 })
      if (k % 50 === 49) await wait(Math.max(0, start + ((k + 1) * 1000) / BURST - Date.now()))
    }
    await until(() => lat.length >= (b + 1) * BURST, `burst ${b + 1} stored`, 120_000)
  }
  const burstS = (performance.now() - tb) / 1000
  off()
  const mem = process.memoryUsage()
  for (const p of pubs) await p.endAsync()
  await svc.stop()
  const s = summarize(lat)
  return { store: kind, messages: total, seconds, perS: total / seconds, burst: { p50: s.p50, p99: s.p99, max: s.max, n: s.n, seconds: burstS }, rssMb: mem.rss / 2 ** 20, heapMb: mem.heapUsed / 2 ** 20 }
}

const dir = mkdtempSync(join(tmpdir(), 'safehouse-bench-station-'))
const mosq = await new Mosquitto({ extraConf: 'max_queued_messages 200000\nmax_inflight_messages 1000' }).start()
const pg = await new Postgres().start()
const rows: Row[] = []
try {
  rows.push(await run('sqlite', `sqlite:${join(dir, 'station.db')}`, mosq))
  rows.push(await run('postgres', await pg.database('bench'), mosq))
} finally {
  await pg.close()
  await mosq.close()
  rmSync(dir, { recursive: true, force: true })
}

console.log(`## Station ingest: ${POSTS} posts x ${DEVICES} devices, alert bursts (bench/station-ingest.ts)

${machineLine()}. Command: \`node --import tsx bench/station-ingest.ts ${POSTS} ${CYCLES}\`.
Real mosquitto as the station broker, the station service in this process (no console), 4 publisher clients.
Steady state compressed: ${CYCLES} x (each of ${POSTS * DEVICES} devices' retained state twice + one test report per post) published as fast
as mosquitto takes them; real time needs ${Math.round(POSTS * DEVICES / 30 + POSTS / 60)} messages/s. Then 3 bursts of ${BURST} alerts, each spread over one second:
latency from the publisher's sent_time to the row written (live feed fires after the insert). Memory: this process (service + publishers).

| store | messages | s | taken in and written /s | alerts | alert->stored p50 ms | p99 ms | max ms | RSS MiB | heap MiB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.store} | ${r.messages} | ${r.seconds.toFixed(1)} | ${Math.round(r.perS)} | ${r.burst.n} | ${ms(r.burst.p50)} | ${ms(r.burst.p99)} | ${ms(r.burst.max)} | ${r.rssMb.toFixed(0)} | ${r.heapMb.toFixed(0)} |`).join('\n')}
`)
