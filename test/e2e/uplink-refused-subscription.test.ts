/**
 * A station broker that refuses the gateway's ack/command SUBSCRIBE (SUBACK
 * 0x80) on a connection that otherwise works: what a NATS 2.9 cluster did to
 * some posts under load (docs/city.md: creating the subscription's JetStream
 * consumer timed out, and later SUBSCRIBEs in that session were refused too),
 * so those posts never got the station's acks. The uplink retries a refused
 * SUBSCRIBE (after 1, 2, 4 s) and, if the broker keeps refusing, rebuilds its
 * session with one clean-session connect (station-uplink.ts subscribeInbound).
 * Real broker: aedes (3.1.1, like NATS), its authorizeSubscribe refusing; the
 * station acks every alert it has seen, again every 500 ms, as the station
 * service re-acks a re-sent alert.
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import type { Client } from 'aedes'
import { aedesOnLoopback } from '../harness/aedes-on-loopback.js'
import { testGateway, until } from '../harness/test-gateway.js'

t.setTimeout(60_000)
const ROOT = 'safehouse/v1/test-city/kiosk-001'

function broker(refuse: (client: Client) => boolean) {
  return aedesOnLoopback({
    authorizeSubscribe: (client, sub, cb) => cb(null, client && sub.topic === `${ROOT}/ack` && refuse(client) ? null : sub),
  })
}

/** A station console that acks every alert it saw, every 500 ms until the test ends. */
async function ackingStation(t: Test, url: string) {
  const station = await mqtt.connectAsync(url, { clientId: 'station-refused', protocolVersion: 4 })
  const seen = new Set<string>()
  station.on('message', (_topic, p) => {
    const a = JSON.parse(p.toString()) as { id: string; kind: string }
    if (a.kind === 'panic') seen.add(a.id)
  })
  await station.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  const timer = setInterval(() => { for (const id of seen) station.publish(`${ROOT}/ack`, JSON.stringify({ id, by: 'operator-7', at: Date.now() }), { qos: 1 }) }, 500)
  t.teardown(async () => { clearInterval(timer); await station.endAsync() })
  return seen
}

/** A gateway on a broker refusing its ack SUBSCRIBE when `refuse` says so; one press, seen by the station. */
async function pressThrough(t: Test, refuse: (client: Client) => boolean) {
  const b = await broker(refuse)
  t.teardown(b.close)
  const seen = await ackingStation(t, b.url)
  const { gw, cleanup } = await testGateway({ stationUrl: b.url })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect')
  gw.twins.get('counter-button')?.act('press')
  await until(() => seen.size === 1, 'the alert at the station')
  return gw
}

t.test('a SUBSCRIBE refused twice is retried; the third gets through and the ack arrives', async (t) => {
  let refusals = 0
  const gw = await pressThrough(t, () => refusals++ < 2)
  await until(() => gw.outbox.stats().depth === 0, 'the ack delivered once the retried SUBSCRIBE was granted', 15_000)
  t.equal(gw.uplink.counters.subscribeRefusals, 2, 'two refusals counted')
  t.equal(gw.uplink.counters.sessionResets, 0, 'no session rebuilt for a refusal that passed')
  t.equal(gw.uplink.counters.connects, 1, 'the connection was kept')
})

t.test('a broker that refuses for the whole session: the session is rebuilt with a clean connect, then acks arrive', async (t) => {
  // Like the NATS session: refused as long as the client has not started a clean session.
  const gw = await pressThrough(t, (client) => !client.clean)
  await until(() => gw.outbox.stats().depth === 0, 'the ack delivered after the session was rebuilt', 25_000)
  t.equal(gw.uplink.counters.sessionResets, 1, 'one session rebuilt')
  t.equal(gw.uplink.counters.subscribeRefusals, 4, 'the first SUBSCRIBE and its three retries refused')
  t.equal(gw.uplink.connected, true, 'connected again')
  t.equal(gw.uplink.counters.connects, 2, 'one reconnect (the clean one)')
})
