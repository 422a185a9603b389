/**
 * Issue 16 §1 dual path (EN 50136-1 DP1-DP4): two paths to the station (wired
 * and cellular: two TCP routes to one real mosquitto), each its own MQTT
 * connection with its own test report. Alerts go over the first path that is
 * up. A failed path raises `path_failure` naming it, sent over the other path;
 * `restored` when it is back. Measured: time from the cut to path_failure at
 * the station, for a cut the network reports (reset) and a silent one (black hole).
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { AckConsole } from '../harness/ack-console.js'
import { TcpPath } from '../harness/tcp-path.js'
import { Kind } from '../../protocols/event-kinds.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

const KEEPALIVE_S = 5
/** Silent cut: mqtt.js gives up at 1.5 x keepalive; slack for a loaded 2-core machine. */
const SILENT_BOUND_MS = 1.5 * KEEPALIVE_S * 1000 + 2500
const PATH_FAILURE_RESTORED = Kind.PATH_FAILURE // + 256 x index: wired is index 0

t.test('dual path: each path supervised, a failed path reported over the other', async (t) => {
  const m = await new Mosquitto().start()
  t.teardown(() => m.close())
  const wired = await new TcpPath(() => m.port).start()
  const cellular = await new TcpPath(() => m.port).start()
  t.teardown(() => Promise.all([wired.close(), cellular.close()]))
  const station = new AckConsole()
  t.teardown(() => station.close())
  await station.attach(m.url, 'station')
  const { gw, cleanup } = await testGateway({
    station: {
      keepalive_s: KEEPALIVE_S,
      paths: [
        { name: 'wired', endpoints: [wired.url], test_report_s: 1 },
        { name: 'cellular', endpoints: [cellular.url], test_report_s: 2 },
      ],
    },
  })
  t.teardown(cleanup)
  const button = gw.devices.indexOf('counter-button')
  let v = 0
  const raise = (): number => { gw.core.input(button, Kind.PANIC, ++v, Date.now(), Number.NaN, v); return v }
  // First arrivals only (a repeat under the same id is allowed: at least once).
  const firsts = (kind: string, path: string) => station.alerts.filter((a, i, all) => a.kind === kind && a.path === path && all.findIndex((b) => b.id === a.id) === i)
  const failures = (path: string) => firsts('path_failure', path)
  const restores = (path: string) => firsts('restored', path)
  const arrived = (value: number) => station.alerts.some((a) => a.kind === 'panic' && a.value === value)

  await gw.start()
  await until(() => gw.uplink.links.every((l) => l.connected), 'both paths up')
  t.equal(gw.uplink.activePath, 'wired', 'the first path carries the traffic')

  // Each path reports on its own connection, naming itself.
  await until(() => station.reports.some((r) => r.path === 'wired') && station.reports.some((r) => r.path === 'cellular'), 'a test report from each path')
  t.same(new Set(station.reports.map((r) => r.path)), new Set(['wired', 'cellular']))
  await until(() => station.pathStatus.some((s) => s.path === 'wired' && s.state === 'online') && station.pathStatus.some((s) => s.path === 'cellular' && s.state === 'online'), 'both path statuses online')
  const a1 = raise()
  await until(() => arrived(a1) && gw.outbox.stats().depth === 0, 'an alarm over the wired path, acked')
  t.equal(failures('wired').length + failures('cellular').length, 0, 'no path_failure while both work')

  t.test('the wired path is cut (the network says so)', async (t) => {
    const cutAt = Date.now()
    wired.cut()
    const a2 = raise()
    await until(() => failures('wired').length === 1, 'path_failure of wired at the station')
    const ms = failures('wired')[0].at - cutAt
    t.equal(gw.uplink.activePath, 'cellular', 'traffic moved to cellular')
    await until(() => arrived(a2), 'the alarm raised at the cut arrives over cellular')
    t.ok(ms < 2000, `path_failure at the station ${ms} ms after the cut`)
    t.comment(`reported cut of the active path: path_failure at the station after ${ms} ms`)
    const reportsBefore = station.reports.filter((r) => r.path === 'wired').length
    await until(() => station.reports.filter((r) => r.path === 'cellular' && r.at > cutAt).length >= 1, 'cellular keeps reporting')
    t.equal(station.reports.filter((r) => r.path === 'wired').length, reportsBefore, 'no wired report while it is cut')

    wired.restore()
    await until(() => restores('wired').length === 1, 'restored (wired) at the station', 15_000)
    t.equal(restores('wired')[0].value, PATH_FAILURE_RESTORED, 'restored carries path_failure + 256 x the path index')
    await until(() => gw.uplink.activePath === 'wired', 'traffic back on wired (the preferred path)')
  })

  t.test('the cellular path goes silent (black hole) while idle', async (t) => {
    const cutAt = Date.now()
    cellular.blackhole()
    await until(() => failures('cellular').length === 1, 'path_failure of cellular at the station', 30_000)
    const ms = failures('cellular')[0].at - cutAt
    t.ok(ms <= SILENT_BOUND_MS, `path_failure ${ms} ms after the silent cut (bound ${SILENT_BOUND_MS} ms)`)
    t.equal(gw.uplink.activePath, 'wired', 'traffic stayed on wired')
    t.comment(`silent cut of the standby path: path_failure at the station after ${ms} ms (keepalive ${KEEPALIVE_S} s)`)
    cellular.restore()
    await until(() => restores('cellular').length === 1, 'restored (cellular) at the station', 20_000)
  })

  t.test('the active wired path goes silent with an alarm in flight', async (t) => {
    await until(() => gw.uplink.links.every((l) => l.connected), 'both paths up again', 20_000)
    const cutAt = Date.now()
    wired.blackhole()
    const a3 = raise()
    await until(() => failures('wired').length === 2, 'second path_failure of wired at the station', 30_000)
    const ms = failures('wired')[1].at - cutAt
    await until(() => arrived(a3), 'the alarm sent into the silent path arrives over cellular', 10_000)
    const alarmMs = station.alerts.find((a) => a.kind === 'panic' && a.value === a3)!.at - cutAt
    t.ok(ms <= SILENT_BOUND_MS, `path_failure ${ms} ms after the silent cut (bound ${SILENT_BOUND_MS} ms)`)
    t.ok(alarmMs <= SILENT_BOUND_MS, `the alarm arrived ${alarmMs} ms after it was raised into the silent path`)
    t.comment(`silent cut of the active path: path_failure after ${ms} ms, the alarm raised into it after ${alarmMs} ms`)
    wired.restore()
    await until(() => restores('wired').length === 2 && gw.uplink.activePath === 'wired', 'wired back', 20_000)
  })

  t.test('after all the switches, a station command runs once (one path holds the subscriptions)', async (t) => {
    await until(() => gw.uplink.links.every((l) => l.connected) && gw.uplink.activePath === 'wired', 'both paths up, wired in use', 20_000)
    const desk = await mqtt.connectAsync(m.url, { clientId: 'desk-cmd', protocolVersion: 4 })
    t.teardown(() => desk.endAsync(true))
    const replies: string[] = []
    desk.on('message', (_topic, p) => replies.push(p.toString()))
    await desk.subscribeAsync('test/replies/desk', { qos: 1 })
    await desk.publishAsync('safehouse/v1/test-city/kiosk-001/cmd/status', JSON.stringify({ correlation_id: 'c1', response_topic: 'test/replies/desk', by: 'desk' }), { qos: 1 })
    await until(() => replies.length >= 1, 'the reply')
    await new Promise((r) => setTimeout(r, 1500))
    t.equal(replies.length, 1, 'exactly one reply: the command ran once')
  })

  t.test('delivery stayed at least once under one id, every payload valid', async (t) => {
    await until(() => gw.outbox.stats().depth === 0, 'the outbox drains')
    const panics = station.alerts.filter((a) => a.kind === 'panic')
    t.same([...new Set(panics.map((a) => a.value))].sort(), [1, 2, 3], 'every alarm arrived, none invented')
    t.equal(station.ids('panic').length, 3, 'one id per alarm')
    t.equal(station.mismatched, 0, 'a repeat carries the same id and bytes')
    t.ok(gw.uplink.counters.pathSwitches >= 4, `path switches counted (${gw.uplink.counters.pathSwitches})`)
    const metrics = await gw.metrics.text()
    t.match(metrics, /safehouse_uplink_path_connected\{path="cellular"\} 1/)
    t.match(metrics, /safehouse_uplink_path_active\{path="wired"\} 1/)
    t.match(metrics, /safehouse_uplink_path_active\{path="cellular"\} 0/)
  })
})

t.test('path_failure payloads validate against the contract', async (t) => {
  // The encoder writes `path` for path_failure and its restore (alert.schema.json).
  const { AlertEncoder } = await import('../../protocols/mqtt/alert-encoder.js')
  const enc = new AlertEncoder({ site: 'test-city', post: 'kiosk-001', postType: 'safety_house' })
  const gwDev = enc.internDevice({ id: 'gateway', kind: 'gateway', label: 'Gateway', location: '' })
  enc.setPathNames(['wired', 'cellular'])
  const out = Buffer.alloc(enc.maxLength)
  const fields = { device: gwDev, seq: 9, rssi: Number.NaN, hwTime: 1, sentTime: 2, test: false }
  const fail = JSON.parse(out.subarray(0, enc.encode({ ...fields, kind: Kind.PATH_FAILURE, value: 1 }, out)).toString())
  t.match(fail, { kind: 'path_failure', value: 1, path: 'cellular' })
  t.ok(checkPayload('alert', Buffer.from(JSON.stringify(fail))).ok)
  const back = JSON.parse(out.subarray(0, enc.encode({ ...fields, kind: Kind.RESTORED, value: Kind.PATH_FAILURE + 256 }, out)).toString())
  t.match(back, { kind: 'restored', path: 'cellular' })
  t.ok(checkPayload('alert', Buffer.from(JSON.stringify(back))).ok)
  const other = JSON.parse(out.subarray(0, enc.encode({ ...fields, kind: Kind.RESTORED, value: Kind.MISSING }, out)).toString())
  t.notOk('path' in other, 'no path on other restores')
  const report = { v: 1, post: 'kiosk-001', time: 1, interval_s: 1, outbox_depth: 0, path: 'wired' }
  t.ok(checkPayload('testReport', Buffer.from(JSON.stringify(report))).ok, 'a test report with path validates')
})
