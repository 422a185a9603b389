/**
 * Issue 14 item 1: the cost of one scrape of the station's /metrics for a
 * full fleet: 2,100 posts (4 devices each, some missing or low on battery),
 * 1,000 unacknowledged alerts, on SQLite. The exposition is built the way
 * GET /metrics builds it (StationMetrics.text(): one fleet summary, then
 * collect()); the HTTP hop is the same as the gateway's (bench/metrics.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openStore } from '../station/store/open-store.js'
import { StationMetrics } from '../station/metrics/station-metrics.js'
import { classify } from '../station/store/alert-class.js'
import type { AlertInsert } from '../station/store/station-db.js'
import { machineLine } from './bench-stats.js'

const POSTS = Number(process.argv[2] ?? 2100)
const OPEN = 1000
const dir = mkdtempSync(join(tmpdir(), 'safehouse-bench-stm-'))
const now = Date.now()
const store = await openStore(`sqlite:${join(dir, 'station.db')}`, { now: () => now })
const t0 = performance.now()
const posts = Array.from({ length: POSTS }, (_, i) => ({ site: `site-${i % 7}`, post: `post-${String(i).padStart(4, '0')}` }))
for (const [i, p] of posts.entries()) {
  await store.setStatus(p.site, p.post, i % 50 !== 0, now - 1000, now)
  await store.setTestReport(p.site, p.post, 60, 0, i % 100 === 0 ? now - 200_000 : now)
}
for (let i = 0; i < POSTS; i += 100) {
  await store.setDeviceStates(posts.slice(i, i + 100).flatMap((p, j) => ['b1', 'b2', 'w1', 'lamp'].map((device, k) => ({
    site: p.site, post: p.post, device,
    state: { v: 1, device, device_kind: 'panic-button', status: (i + j + k) % 97 === 0 ? 'missing' : 'online', battery: (i + j + k) % 31 === 0 ? 10 : 90, faults: [] },
  }))), now)
}
const alerts: AlertInsert[] = Array.from({ length: OPEN }, (_, i) => {
  const p = posts[i % POSTS]
  const kind = i % 3 === 0 ? 'panic' : 'tamper'
  const id = `${p.site}:${p.post}:${i}`
  return {
    id, site: p.site, post: p.post, device: 'b1', deviceKind: 'panic-button', label: null, location: null, kind, ...classify(kind, false),
    value: 1, rssi: null, test: false, originPost: null, hwTime: now - i, sentTime: now - i, receivedAt: now - i * 1000, payload: JSON.stringify({ id }),
  }
})
for (let i = 0; i < OPEN; i += 200) await store.insertAlerts(alerts.slice(i, i + 200))
const fillS = ((performance.now() - t0) / 1000).toFixed(1)

const metrics = new StationMetrics({
  fleet: () => store.fleet(), health: { dbOk: () => true, brokerConnected: () => true, counters: () => ({ messages: 1, alerts_stored: OPEN }) },
  now: () => now, startedAt: now,
})
const times: number[] = []
let bytes = 0
let lines = 0
for (let i = 0; i < 60; i++) {
  const t = performance.now()
  const text = await metrics.text()
  if (i >= 10) times.push(performance.now() - t)
  bytes = text.length
  lines = text.split('\n').filter((l) => l && !l.startsWith('#')).length
}
await store.close()
rmSync(dir, { recursive: true, force: true })
times.sort((a, b) => a - b)
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1)

console.log(`## Station metrics (issue 14 item 1): one scrape for a full fleet (bench/station-metrics.ts)

${machineLine()}. Command: \`node --import tsx --expose-gc bench/station-metrics.ts ${POSTS}\`.
SQLite store with ${POSTS.toLocaleString('en')} posts (4 devices each), ${OPEN.toLocaleString('en')} unacknowledged alerts (filled in ${fillS} s).
One exposition as GET /metrics builds it (one fleet summary, then collect()), 50 scrapes after 10 warm-up:
${lines.toLocaleString('en')} samples, ${(bytes / 1024).toFixed(0)} KiB; p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${times[times.length - 1].toFixed(1)} ms.
Target: well under Prometheus' default 10 s scrape timeout and a small share of a 15 s interval.`)
