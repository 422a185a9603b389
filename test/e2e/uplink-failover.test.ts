/**
 * Issue 16 §1: an uplink over an ordered list of station endpoints (a
 * cluster's nodes), against real mosquittos on free ports.
 *  - It connects to the first, fails over in order when a node dies, stays on
 *    a healthy node when the first comes back (no flapping), and wraps around.
 *  - Half-open nodes (TCP accepted, no CONNACK; CONNACK then silence) are
 *    detected within the keepalive bound and failed over.
 *  - Durable delivery is unchanged: nothing lost, a repeat keeps its id (and
 *    its bytes); an alert sent to a node that never acked is resent on the next.
 */
import t from 'tap'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { AckConsole } from '../harness/ack-console.js'
import { connackThenSilent, pingsButNoPuback, silentNode } from '../harness/tcp-path.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { Gateway } from '../../gateway/gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

const KEEPALIVE_S = 5

function raiser(gw: Gateway): (value: number) => void {
  const button = gw.devices.indexOf('counter-button')
  return (value) => { gw.core.input(button, Kind.PANIC, value, Date.now(), Number.NaN, value) }
}

t.test('fails over in order, stays on a healthy node, loses nothing', async (t) => {
  const a = await new Mosquitto().start()
  const b = await new Mosquitto().start()
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const station = new AckConsole()
  t.teardown(() => station.close())
  await station.attach(a.url, 'a')
  await station.attach(b.url, 'b')
  const { gw, cleanup } = await testGateway({ station: { endpoints: [a.url, b.url], keepalive_s: KEEPALIVE_S } })
  t.teardown(cleanup)
  const raise = raiser(gw)
  const link = gw.uplink.links[0]

  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect')
  t.equal(link.endpoint, 0, 'on the first endpoint')
  raise(1)
  await until(() => station.ids('panic').length === 1 && gw.outbox.stats().depth === 0, 'alert 1 delivered and acked')
  t.equal(station.alerts.find((x) => x.kind === 'panic')?.via, 'a')

  // Node A dies; an alarm raised in the same instant goes out on B.
  await a.stop()
  raise(2)
  await until(() => gw.uplink.connected && link.endpoint === 1, 'failover to B')
  await until(() => station.ids('panic').length === 2 && gw.outbox.stats().depth === 0, 'alert 2 delivered over B and acked')
  t.equal(station.alerts.filter((x) => x.kind === 'panic' && x.value === 2)[0].via, 'b', 'alert 2 arrived through B')

  // A is back: the link stays on B while B works (several backoff periods later).
  await a.start()
  const connects = gw.uplink.counters.connects
  await new Promise((r) => setTimeout(r, 3000))
  t.equal(link.endpoint, 1, 'still on B after A came back')
  t.equal(gw.uplink.counters.connects, connects, 'no reconnect: no flapping back to the first endpoint')

  // B dies: the list wraps around to A.
  await b.stop()
  raise(3)
  await until(() => gw.uplink.connected && link.endpoint === 0, 'failover back to A')
  await until(() => station.ids('panic').length === 3 && gw.outbox.stats().depth === 0, 'alert 3 delivered over A and acked')

  const panics = station.alerts.filter((x) => x.kind === 'panic')
  t.same([...new Set(panics.map((x) => x.value))].sort(), [1, 2, 3], 'every raised alert arrived, none invented')
  t.equal(station.ids('panic').length, 3, 'three distinct ids')
  t.equal(station.mismatched, 0, 'a repeat carries the same id and the same bytes')
  t.ok(gw.uplink.counters.failovers >= 2, `failovers counted (${gw.uplink.counters.failovers})`)
  const metrics = await gw.metrics.text()
  t.match(metrics, /safehouse_uplink_failovers_total \d+/)
  t.match(metrics, /safehouse_uplink_path_endpoint\{path="primary"\} 0/)
  const state = checkPayload('gatewayState', JSON.stringify(gw.gatewayState()))
  t.ok(state.ok, `the gateway state with station_paths validates: ${state.ok ? '' : state.error}`)
  t.match(JSON.stringify(gw.gatewayState()), /"station_paths":\[\{"name":"primary","state":"connected","endpoint":"mqtt:\/\/127\.0\.0\.1:\d+","active":true\}\]/)
})

t.test('half-open nodes are failed over within the keepalive bound', async (t) => {
  const b = await new Mosquitto().start()
  t.teardown(() => b.close())
  const station = new AckConsole()
  t.teardown(() => station.close())
  await station.attach(b.url, 'b')

  t.test('an unreachable endpoint (refused) is skipped and counted, never fatal', async (t) => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`
    const { gw, cleanup } = await testGateway({ station: { endpoints: [dead, b.url], keepalive_s: KEEPALIVE_S } })
    t.teardown(cleanup)
    const started = Date.now()
    await gw.start()
    await until(() => gw.uplink.connected, 'the uplink to reach B')
    const ms = Date.now() - started
    t.equal(gw.uplink.links[0].endpoint, 1, 'on B')
    t.ok(gw.uplink.counters.connectFailures >= 1, `the refused attempt counted (${gw.uplink.counters.connectFailures})`)
    t.ok(ms < 3000, `on B ${ms} ms after start (one backoff delay after the refusal)`)
  })

  t.test('TCP accepted, no CONNACK ever', async (t) => {
    const mute = await silentNode()
    t.teardown(() => mute.close())
    const { gw, cleanup } = await testGateway({ station: { endpoints: [mute.url, b.url], keepalive_s: KEEPALIVE_S } })
    t.teardown(cleanup)
    const started = Date.now()
    await gw.start()
    await until(() => gw.uplink.connected, 'the uplink to reach B', 30_000)
    const ms = Date.now() - started
    t.equal(gw.uplink.links[0].endpoint, 1, 'on B')
    t.equal(mute.accepted(), 1, 'the mute node took the first attempt')
    // connectTimeout = keepalive_s; plus the first backoff (<= backoff_initial_ms 100) and slack for a loaded machine.
    t.ok(ms <= KEEPALIVE_S * 1000 + 3000, `detected and failed over in ${ms} ms (bound ${KEEPALIVE_S} s + slack)`)
    t.comment(`no-CONNACK node: connected to the next endpoint ${ms} ms after start (keepalive ${KEEPALIVE_S} s)`)
  })

  t.test('CONNACK, then silence: an alarm sent into it is resent on B with its id', async (t) => {
    const hung = await connackThenSilent()
    t.teardown(() => hung.close())
    const { gw, cleanup } = await testGateway({ station: { endpoints: [hung.url, b.url], keepalive_s: KEEPALIVE_S } })
    t.teardown(cleanup)
    await gw.start()
    await until(() => gw.uplink.connected, 'the uplink to "connect" to the hung node')
    t.equal(gw.uplink.links[0].endpoint, 0, 'connected to the hung node first')
    const raise = raiser(gw)
    raise(7)
    await until(() => (gw.outbox.pending()[0]?.attempts ?? 0) >= 1, 'the alarm sent into the hung node')
    const id = gw.outbox.pending()[0].id
    await until(() => gw.uplink.links[0].endpoint === 1, 'failover away from the hung node', 30_000)
    const detectMs = Date.now() - hung.connackAt[0]
    // mqtt.js: PINGREQ after keepalive_s of silence, gives up at 1.5 x keepalive_s.
    t.ok(detectMs <= 1.5 * KEEPALIVE_S * 1000 + 2500, `hung node detected ${detectMs} ms after its CONNACK (bound 1.5 x ${KEEPALIVE_S} s + slack)`)
    await until(() => station.ids().includes(id) && gw.outbox.stats().depth === 0, 'the alarm resent on B and acked')
    t.same(station.alerts.filter((x) => x.id === id).map((x) => x.value), [7], 'arrived once at the station, under its id')
    t.equal(station.mismatched, 0)
    t.comment(`CONNACK-then-silent node: failed over ${detectMs} ms after its CONNACK (keepalive ${KEEPALIVE_S} s)`)
  })

  t.test('PINGRESPs but no PUBACK: failed over by the PUBACK watchdog', async (t) => {
    const stalled = await pingsButNoPuback()
    t.teardown(() => stalled.close())
    const { gw, cleanup } = await testGateway({ station: { endpoints: [stalled.url, b.url], keepalive_s: KEEPALIVE_S } })
    t.teardown(cleanup)
    await gw.start()
    await until(() => gw.uplink.connected && gw.uplink.links[0].endpoint === 0, 'connected to the stalled node')
    const sentAt = Date.now()
    raiser(gw)(9)
    await until(() => gw.uplink.links[0].endpoint === 1, 'failover away from the stalled node', 30_000)
    const ms = Date.now() - sentAt
    t.ok(stalled.publishes() >= 1, 'the stalled node took the alarm')
    t.ok(stalled.pings() >= 1, `and answered pings (${stalled.pings()}), so keepalive alone would never leave it`)
    t.equal(gw.uplink.counters.pubackTimeouts, 1, 'counted as a PUBACK timeout')
    t.ok(ms <= 1.5 * KEEPALIVE_S * 1000 + 3000, `left ${ms} ms after the unacknowledged publish (bound 1.5 x ${KEEPALIVE_S} s + a watchdog tick + slack)`)
    await until(() => station.alerts.some((a) => a.kind === 'panic' && a.value === 9) && gw.outbox.stats().depth === 0, 'the alarm delivered on B')
    t.comment(`PINGRESP-but-no-PUBACK node: failed over ${ms} ms after the unacknowledged publish (keepalive ${KEEPALIVE_S} s)`)
  })
})
