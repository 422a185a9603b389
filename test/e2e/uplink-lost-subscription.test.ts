/**
 * A station broker that loses the gateway's ack subscription while the
 * session stays up (seen on a NATS 2.9 cluster after a node kill,
 * docs/city.md): the station acknowledges, the ack never arrives, the
 * alert is re-sent after `ack_timeout_s`, and with the resend the gateway
 * subscribes again, so the station's re-sent ack gets through and the outbox
 * empties. Real mosquitto behind a relay that drops the forgotten topic
 * (test/harness/forgetful-broker.ts); the station's console acks every alert
 * it receives, as the station service does for a re-sent, acknowledged one.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { ForgetfulBroker } from '../harness/forgetful-broker.js'
import { testGateway, until } from '../harness/test-gateway.js'

t.setTimeout(60_000)
const ROOT = 'safehouse/v1/test-city/kiosk-001'
const ACK_TIMEOUT_S = 2

t.test('an ack subscription the broker forgot is renewed with the ack-timeout resend; the alert is then acknowledged', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const relay = await new ForgetfulBroker(mosq.port).start()
  t.teardown(() => relay.close())
  const { gw, cleanup } = await testGateway({ stationUrl: relay.url, station: { ack_timeout_s: ACK_TIMEOUT_S } })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-forgetful', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const received: string[] = []
  station.on('message', (_topic, p) => {
    const a = JSON.parse(p.toString()) as { id: string; kind: string }
    if (a.kind === 'panic') received.push(a.id) // the resend also raises an escalation (another id)
    void station.publishAsync(`${ROOT}/ack`, JSON.stringify({ id: a.id, by: 'operator-7', at: Date.now() }), { qos: 1 })
  })
  await station.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected && relay.subscribes >= 1, 'the gateway connected and subscribed')

  relay.forgotten = `${ROOT}/ack` // the broker loses the subscription; the connection stays up
  t.equal(gw.twins.get('counter-button')?.act('press'), null, 'press')
  await until(() => received.length === 1 && relay.dropped >= 1, 'the alert at the station, its ack lost on the way back')
  t.equal(gw.outbox.stats().depth, 1, 'the alert stays in the outbox')
  await until(() => gw.outbox.stats().depth === 0, 'the alert acknowledged after the resend renewed the subscription', 15_000)
  t.equal(gw.uplink.counters.resubscribes, 1, 'one renewal')
  t.ok(received.length >= 2 && new Set(received).size === 1, 'the resend kept its id')
  t.equal(relay.forgotten, null, 'the gateway subscribed to the ack topic again')
})
