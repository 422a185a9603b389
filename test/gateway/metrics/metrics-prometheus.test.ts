/**
 * Issue 14 §1: the gateway's /metrics, scraped by a real Prometheus (Debian's
 * package) and checked by `promtool check metrics`. A real gateway (simulated
 * twins) with a real mosquitto as the station: a press is sent and acked, so
 * both latency histograms count it; every counter of the retained state is
 * there; a counter name that is not a valid label value is escaped; the
 * listener is loopback only.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { readFileSync } from 'node:fs'
import { testGateway, until } from '../../harness/test-gateway.js'
import { Mosquitto } from '../../harness/mosquitto.js'
import { Prometheus, promtoolCheck, scrapeMetrics } from '../../harness/prometheus.js'

t.setTimeout(90_000)

const scrape = scrapeMetrics

t.test('a real Prometheus scrapes the gateway: counters, device gauges, outbox, uplink, latency histograms', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-metrics' })
  t.teardown(() => station.endAsync())
  const alertIds: string[] = []
  station.on('message', (_topic, p) => alertIds.push(JSON.parse(p.toString()).id))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  const port = gw.metricsServer!.address!.port

  // A driver counter whose name is not a valid label value as written: quote, backslash, newline.
  gw.state.count(1, 'odd "name"\\with\nnewline', 2)
  const text = await scrape(port)
  const check = promtoolCheck(text)
  t.equal(check.code, 0, `promtool check metrics passes: ${check.output}`)
  t.match(text, /safehouse_device_driver_events_total\{device="counter-button",event="odd \\"name\\"\\\\with\\nnewline"\} 2/, 'the label value is escaped')
  const counters = (gw.gatewayState() as { counters: Record<string, number> }).counters
  t.ok(Object.keys(counters).length >= 17)
  for (const k of Object.keys(counters)) t.match(text, new RegExp(`^safehouse_${k}_total \\d+$`, 'm'), `retained counter ${k} is exposed`)
  t.notMatch(text, /test-city:kiosk-001:/, 'no alert id in any label')

  const prom = await new Prometheus([`127.0.0.1:${port}`]).start()
  t.teardown(() => prom.close())
  await prom.until('up{job="safehouse"}', (r) => r[0]?.value[1] === '1', 'a successful scrape')
  t.equal((await prom.query('safehouse_uplink_connected'))[0].value[1], '1', 'uplink connected')
  const online = await prom.query('safehouse_device_online')
  t.same(online.map((s) => s.metric.device).sort(), ['counter-button', 'lamp-box', 'whistle-07'], 'one series per device')
  t.ok(online.every((s) => ['panic-button', 'lamp-box', 'ble-whistle'].includes(s.metric.kind)), 'labelled with the device kind')
  const odd = await prom.query('safehouse_device_driver_events_total{device="counter-button"}')
  t.equal(odd[0]?.metric.event, 'odd "name"\\with\nnewline', 'Prometheus reads the escaped label back exactly')

  // One press: sent (hardware time -> sent), then acknowledged (sent -> ack).
  t.equal(gw.twins.get('counter-button')?.act('press'), null)
  await until(() => alertIds.length === 1, 'the alert at the station')
  await prom.until('safehouse_outbox_depth', (r) => r[0]?.value[1] === '1', 'outbox depth 1 while unacknowledged')
  await prom.until('safehouse_alert_send_latency_seconds_count', (r) => r[0]?.value[1] === '1', 'one send observed')
  await station.publishAsync('safehouse/v1/test-city/kiosk-001/ack', JSON.stringify({ id: alertIds[0], by: 'op-1' }), { qos: 1 })
  await until(() => gw.outbox.stats().depth === 0, 'the ack')
  await prom.until('safehouse_alert_ack_latency_seconds_count', (r) => r[0]?.value[1] === '1', 'one ack observed')
  await prom.until('safehouse_outbox_depth', (r) => r[0]?.value[1] === '0', 'outbox empty after the ack')
  const send = Number((await prom.query('safehouse_alert_send_latency_seconds_sum'))[0].value[1])
  t.ok(send >= 0 && send < 5, `hardware -> sent took ${send} s`)
  const le = await prom.query('safehouse_alert_send_latency_seconds_bucket{le="+Inf"}')
  t.equal(le[0].value[1], '1', 'buckets are cumulative up to +Inf')
  await prom.until('safehouse_outbox_acked_total', (r) => r[0]?.value[1] === '1', 'acked counter')
  await prom.until('safehouse_device_last_seen_age_seconds{device="counter-button"}', (r) => r.length === 1 && Number(r[0].value[1]) < 30, 'last-seen age of the pressed button')
  const after = await scrape(port)
  const p = promtoolCheck(after)
  t.equal(p.code, 0, `still valid after alerts: ${p.output}`)

  // docs/grafana-dashboard.json: every query runs in this Prometheus and names only metrics we expose.
  const dash = JSON.parse(readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] }
  const exposed = new Set([...after.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]))
  for (const panel of dash.panels) {
    for (const { expr } of panel.targets) {
      const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*')
      await t.resolves(prom.query(q), `"${panel.title}" query runs: ${q}`)
      for (const [name] of expr.matchAll(/safehouse_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '')
        t.ok(exposed.has(base), `"${panel.title}": ${name} is exposed`)
      }
    }
  }
})

t.test('loopback only by default: not reachable on this machine\'s other addresses', async (t) => {
  const { gw, cleanup } = await testGateway()
  t.teardown(cleanup)
  await gw.start()
  const addr = gw.metricsServer!.address!
  t.equal(addr.address, '127.0.0.1', 'bound to loopback')
  const others = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4').map((i) => i!.address)
  t.comment(others.length ? `trying ${others.join(', ')}` : 'this machine has no non-loopback IPv4 address: only the bound address is checked')
  for (const host of others) {
    const err = await new Promise<string>((resolve) => {
      const s = connect({ host, port: addr.port })
      s.once('connect', () => { s.destroy(); resolve('connected') })
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    })
    t.equal(err, 'ECONNREFUSED', `${host}:${addr.port} refuses the connection`)
  }
  const res = await fetch(`http://127.0.0.1:${addr.port}/other`)
  t.equal(res.status, 404, 'only /metrics is served')
})

t.test('a metrics port already taken: logged, the gateway runs on', async (t) => {
  const first = await testGateway()
  t.teardown(first.cleanup)
  await first.gw.start()
  const taken = first.gw.metricsServer!.address!.port
  const second = await testGateway({ extra: { metrics: { port: taken } } })
  t.teardown(second.cleanup)
  await second.gw.start()
  t.equal(second.gw.metricsServer!.address, null, 'no listener')
  t.equal(second.gw.twins.get('counter-button')?.act('press'), null, 'the alarm path works')
  await until(() => second.gw.outbox.stats().appended === 1, 'the alert accepted')
})
