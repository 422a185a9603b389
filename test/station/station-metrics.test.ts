/**
 * Issue 14 item 1: the station service exposes fleet gauges the same way as
 * the gateway. A real station service (SQLite, real mosquitto) fed by a test
 * gateway; a real Prometheus scrapes its /metrics and is queried over its
 * HTTP API; `promtool check metrics` checks the exposition. Then the config
 * section, the loopback default, a counter name that is not a metric name,
 * and a database that does not answer.
 */
import t from 'tap'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testStation } from '../harness/station-service.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { Prometheus, promtoolCheck, scrapeMetrics } from '../harness/prometheus.js'
import { StationMetrics } from '../../station/metrics/station-metrics.js'
import { STATION_COUNTER_HELP, STATION_LEVELS } from '../../station/metrics/station-counter-help.js'
import { parseStationConfig } from '../../station/config/load-station-config.js'
import { optionsFromConfig } from '../../station/station-service.js'
import type { FleetSummary } from '../../station/store/fleet-summary.js'

t.setTimeout(90_000)

const scrape = scrapeMetrics
const value = (text: string, series: string): number | null => {
  const esc = series.replace(/[{}"\\.]/g, (c) => `\\${c}`)
  const m = new RegExp(`^${esc} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : null
}

t.test('a real Prometheus scrapes the station: one post online, one unacknowledged alarm, then acked', async (t) => {
  const st = await testStation({ web: false, over: { metrics: { host: '127.0.0.1', port: 0 } } })
  t.teardown(st.cleanup)
  const { gw, cleanup } = await testGateway({ stationUrl: st.mosq.url })
  t.teardown(cleanup)
  const live: string[] = []
  st.service.live.subscribe((_s, e) => { if (e.type === 'alert' && e.alert.kind === 'panic') live.push(e.alert.id) })
  await gw.start()
  await until(() => st.service.ingest.isKnown('test-city', 'kiosk-001'), 'the post known from its status')
  t.equal(gw.twins.get('counter-button')?.act('press'), null)
  await until(() => live.length === 1, 'the alarm at the station')
  const port = st.service.metricsPort
  t.ok(port > 0, 'listening on a free port (metrics.port 0)')

  // A counter whose name is not valid in a metric name as written.
  st.service.counters.inc('odd-name.x', 3)
  // The alert is live before its row is written (store-writer batches): scrape until the row is there.
  let text = await scrape(port)
  for (const deadline = Date.now() + 10_000; value(text, 'safehouse_station_alerts_unacknowledged{class="alarm"}') !== 1; text = await scrape(port)) {
    if (Date.now() > deadline) throw new Error(`no stored alarm in the scrape after 10 s:\n${text}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const check = promtoolCheck(text)
  t.equal(check.code, 0, `promtool check metrics passes: ${check.output}`)
  t.equal(value(text, 'safehouse_station_posts{state="online"}'), 1, 'one post online')
  t.equal(value(text, 'safehouse_station_posts{state="offline"}'), 0, 'none offline')
  t.equal(value(text, 'safehouse_station_post_online{site="test-city",post="kiosk-001"}'), 1, 'per-post gauge labelled site and post')
  t.equal(value(text, 'safehouse_station_posts_test_overdue'), 0)
  t.equal(value(text, 'safehouse_station_db_up'), 1)
  t.equal(value(text, 'safehouse_station_broker_connected'), 1)
  t.ok((value(text, 'safehouse_station_oldest_unacknowledged_age_seconds') ?? -1) >= 0, 'oldest unacknowledged age')
  t.not(value(text, 'safehouse_station_devices_missing'), null)
  t.not(value(text, 'safehouse_station_devices_low_battery'), null)
  t.match(text, /^safehouse_station_odd_name_x_total 3$/m, 'an odd counter name becomes a valid metric name')
  const counters = st.service.health.counters()
  t.ok(counters.messages > 0 && counters.alerts_stored >= 1)
  for (const k of Object.keys(counters).filter((k) => !(k in STATION_LEVELS))) t.match(text, new RegExp(`^# TYPE safehouse_station_${k.replace(/[^a-z0-9_]/g, '_')}_total counter$`, 'm'), `counter ${k} exposed`)
  t.match(text, /^safehouse_station_held_rows 0$/m, 'held rows is a gauge')
  t.match(text, /^safehouse_station_broker_refused_subscriptions 0$/m, 'no subscription refused: a gauge at 0')
  t.notMatch(text, /test-city:kiosk-001:/, 'no alert id in any label')

  const prom = await new Prometheus([`127.0.0.1:${port}`], 'station').start()
  t.teardown(() => prom.close())
  await prom.until('up{job="station"}', (r) => r[0]?.value[1] === '1', 'a successful scrape')
  const alarms = await prom.until('safehouse_station_alerts_unacknowledged', (r) => r.length === 3, 'the three classes')
  t.equal(alarms.find((s) => s.metric.class === 'alarm')?.value[1], '1', 'Prometheus: one unacknowledged alarm')
  const posts = await prom.query('safehouse_station_post_online')
  t.same(posts.map((s) => [s.metric.site, s.metric.post, s.value[1]]), [['test-city', 'kiosk-001', '1']], 'Prometheus: one post, online')
  t.equal((await prom.query('safehouse_station_posts{state="online"}'))[0]?.value[1], '1')
  t.ok(Number((await prom.query('safehouse_station_messages_total'))[0]?.value[1]) > 0, 'Prometheus: ingest counter')

  // Read at scrape time: the operator's ack shows on the next scrape.
  t.same(await st.service.actions.acknowledge(st.ctx, live[0], null), { ok: true })
  await prom.until('safehouse_station_alerts_unacknowledged{class="alarm"}', (r) => r[0]?.value[1] === '0', 'the ack seen by Prometheus')
  const after = promtoolCheck(await scrape(port))
  t.equal(after.code, 0, `still valid after the ack: ${after.output}`)
})

t.test('config: metrics on loopback:9465 by default, validated, enabled: false turns it off', async (t) => {
  const c = parseStationConfig('broker:\n  url: mqtt://x\n')
  t.same(c.metrics, { enabled: true, host: '127.0.0.1', port: 9465 })
  t.same(optionsFromConfig(c, { broker_password: null, store_password: null }).metrics, { host: '127.0.0.1', port: 9465 })
  const off = parseStationConfig('broker:\n  url: mqtt://x\nmetrics:\n  enabled: false\n')
  t.equal(optionsFromConfig(off, { broker_password: null, store_password: null }).metrics, null)
  t.throws(() => parseStationConfig('broker:\n  url: mqtt://x\nmetrics:\n  port: 70000\n'), /:4  metrics\.port: must be <= 65535/)
})

t.test('loopback only: not reachable on this machine\'s other addresses; only /metrics', async (t) => {
  const st = await testStation({ web: false, over: { metrics: { host: '127.0.0.1', port: 0 } } })
  t.teardown(st.cleanup)
  const addr = st.service.metricsServer!.address!
  t.equal(addr.address, '127.0.0.1')
  const others = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4').map((i) => i!.address)
  t.comment(others.length ? `trying ${others.join(', ')}` : 'no non-loopback IPv4 address: only the bound address is checked')
  for (const host of others) {
    const err = await new Promise<string>((resolve) => {
      const s = connect({ host, port: addr.port })
      s.once('connect', () => { s.destroy(); resolve('connected') })
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    })
    t.equal(err, 'ECONNREFUSED', `${host}:${addr.port} refuses`)
  }
  t.equal((await fetch(`http://127.0.0.1:${addr.port}/other`)).status, 404)
  t.equal((await fetch(`http://127.0.0.1:${addr.port}/metrics`, { method: 'POST' })).status, 405)
  // A port already taken: logged, the service runs on without /metrics.
  const second = await testStation({ web: false, mosq: st.mosq, over: { metrics: { host: '127.0.0.1', port: addr.port } } })
  t.teardown(second.cleanup)
  t.equal(second.service.metricsPort, 0, 'no listener')
  t.equal(second.service.health.brokerConnected(), true, 'the service runs on')
})

t.test('a database that fails or does not answer: db_up 0, fleet gauges absent, the scrape still answers', async (t) => {
  const fleet: FleetSummary = { posts: [{ site: 's', post: 'p', online: false, testOverdue: true, devicesMissing: 2, lowBattery: 1 }], unacked: { alarm: 0, trouble: 2, info: 0 }, oldestUnackedAt: 1000 }
  let mode: 'ok' | 'fail' | 'hang' = 'ok'
  const m = new StationMetrics({
    fleet: () => (mode === 'ok' ? Promise.resolve(fleet) : mode === 'fail' ? Promise.reject(new Error('down')) : new Promise(() => {})),
    health: { dbOk: () => true, brokerConnected: () => false, counters: () => ({ db_errors: 4 }) },
    now: () => 61_000, startedAt: 0,
  }, 200)
  let text = await m.text()
  t.equal(value(text, 'safehouse_station_posts{state="offline"}'), 1)
  t.equal(value(text, 'safehouse_station_posts_test_overdue'), 1)
  t.equal(value(text, 'safehouse_station_alerts_unacknowledged{class="trouble"}'), 2)
  t.equal(value(text, 'safehouse_station_oldest_unacknowledged_age_seconds'), 60)
  t.equal(value(text, 'safehouse_station_devices_missing'), 2)
  t.equal(value(text, 'safehouse_station_devices_low_battery'), 1)
  t.equal(value(text, 'safehouse_station_db_up'), 1)
  t.equal(value(text, 'safehouse_station_broker_connected'), 0)
  // Scrapes at once run one after another: never two queries on the database together.
  let inFlight = 0
  let most = 0
  const m2 = new StationMetrics({
    fleet: async () => { most = Math.max(most, ++inFlight); await new Promise((r) => setTimeout(r, 20)); inFlight--; return fleet },
    health: { dbOk: () => true, brokerConnected: () => true, counters: () => ({}) }, now: () => 61_000, startedAt: 0,
  })
  const texts = await Promise.all([m2.text(), m2.text(), m2.text()])
  t.equal(most, 1, 'one fleet query at a time')
  t.ok(texts.every((x) => value(x, 'safehouse_station_db_up') === 1))
  for (const bad of ['fail', 'hang'] as const) {
    mode = bad
    const start = Date.now()
    text = await m.text()
    t.ok(Date.now() - start < 5_000, `${bad}: the scrape answers`)
    t.equal(value(text, 'safehouse_station_db_up'), 0, `${bad}: db_up 0`)
    t.notMatch(text, /^safehouse_station_posts\{/m, `${bad}: no stale fleet figures`)
    t.match(text, /^safehouse_station_db_errors_total 4$/m, `${bad}: the counters still come`)
    t.equal(promtoolCheck(text).code, 0, `${bad}: valid exposition`)
  }
})

t.test('every ingest counter the station code keeps has a HELP text and is in docs/operations.md §Station metrics', async (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const names = new Set<string>()
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) { walk(p); continue }
      if (!p.endsWith('.ts')) continue
      const src = readFileSync(p, 'utf8')
      for (const m of src.matchAll(/counters\.(?:inc|set)\('([a-z_]+)'/g)) names.add(m[1])
      for (const m of src.matchAll(/counters\.inc\([^)]*\? '([a-z_]+)' : '([a-z_]+)'/g)) { names.add(m[1]); names.add(m[2]) }
      for (const m of src.matchAll(/counter: '([a-z_]+)'|this\.reject\([^,]+, '([a-z_]+)'/g)) names.add(m[1] ?? m[2])
      for (const m of src.matchAll(/counters\.snapshot\(\), ([^}]*)\}/g)) for (const k of m[1].matchAll(/(\w+):/g)) names.add(k[1])
    }
  }
  walk(join(root, 'station'))
  t.ok(names.size >= 18, `found ${names.size}: ${[...names].join(', ')}`)
  const section = readFileSync(join(root, 'docs/operations.md'), 'utf8').split('### Station metrics')[1].split('\n## ')[0]
  for (const n of names) {
    t.ok(n in STATION_COUNTER_HELP || n in STATION_LEVELS, `${n} has a HELP text`)
    t.match(section, new RegExp(`\`${n}\``), `${n} is documented`)
  }
})
