/**
 * Issue 16 §1 bad input: "a node that accepts the connection but never acks
 * (half-open) -> detected within the keepalive bound and failed over", against
 * a real mosquitto as the healthy next node. Four ways a node can fail: it
 * refuses (skipped at once, counted); it accepts TCP and never sends CONNACK
 * (connect timeout = keepalive_s); it sends CONNACK and goes silent (mqtt.js
 * keepalive, 1.5 x keepalive_s); it answers pings but never PUBACKs (our PUBACK
 * watchdog, 1.5 x keepalive_s). An alarm sent into a hung node is resent on
 * the next one with its id.
 */
import t from 'tap'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { AckConsole } from '../harness/ack-console.js'
import { connackThenSilent, pingsButNoPuback, silentNode } from '../harness/tcp-path.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { Gateway } from '../../gateway/gateway.js'

const KEEPALIVE_S = 5

function raiser(gw: Gateway): (value: number) => void {
  const button = gw.devices.indexOf('counter-button')
  return (value) => { gw.core.input(button, Kind.PANIC, value, Date.now(), Number.NaN, value) }
}

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
