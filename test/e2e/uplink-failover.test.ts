/**
 * Issue 16 §1: an uplink over an ordered list of station endpoints (a
 * cluster's nodes), against real mosquittos on free ports.
 *  - It connects to the first, fails over in order when a node dies, stays on
 *    a healthy node when the first comes back (no flapping), and wraps around.
 *  - (Half-open nodes: uplink-half-open.test.ts.)
 *  - Durable delivery is unchanged: nothing lost, a repeat keeps its id (and
 *    its bytes); an alert sent to a node that never acked is resent on the next.
 */
import t from 'tap'
import { Mosquitto } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { AckConsole } from '../harness/ack-console.js'
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
