/**
 * Issue 16 §2: the station service must come back by itself after its broker cluster restarts.
 * A RabbitMQ 3.10 node that boots opens its MQTT listener before its client-id registry has a
 * majority and answers CONNACK 3 "Server unavailable" meanwhile (seen in the whole-cluster restart,
 * docs/city.md). mqtt.js 5 stops reconnecting for good after any CONNACK refusal unless told
 * otherwise (`reconnectOnConnackError`), so the station stayed deaf after the cluster was back.
 * Real broker: aedes, its authenticate answering return code 3 while "booting".
 */
import t from 'tap'
import mqtt from 'mqtt'
import pino from 'pino'
import { aedesOnLoopback } from '../harness/aedes-on-loopback.js'
import { until } from '../harness/until.js'
import { StationBroker } from '../../station/ingest/station-broker.js'

const ALERTS = 'safehouse/v1/+/+/alert/#'

t.test('CONNACK "server unavailable" after a connection loss: the station keeps reconnecting and receives again', async (t) => {
  let booting = false
  let refused = 0
  const { aedes, url, close } = await aedesOnLoopback({
    authenticate: (_c, _u, _p, cb) => {
      if (!booting) return cb(null, true)
      refused++
      cb(Object.assign(new Error('booting'), { returnCode: 3 }), false)
    },
  })
  t.teardown(close)

  const logs: string[] = []
  const sb = new StationBroker({ url, username: null, password: null, caFile: null, clientId: 'st-connack', protocol: '3.1.1', reconnectMs: 100, log: pino({ level: 'info' }, { write: (l: string) => { logs.push(l) } }) })
  t.teardown(() => sb.stop())
  const got: string[] = []
  await sb.start([ALERTS], (topic) => got.push(topic))
  t.ok(sb.connected, 'connected')

  // The node goes down and comes back booting: its CONNACKs say "server unavailable" for a while.
  booting = true
  for (const c of Object.values((aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients)) c.conn.destroy()
  await until(() => refused >= 3, 'three refused reconnects', 15_000)
  t.notOk(sb.connected, 'not connected while the broker refuses')
  booting = false
  await until(() => sb.connected, 'the station reconnected once the broker accepts again', 10_000)

  const pub = await mqtt.connectAsync(url, { clientId: 'gw' })
  t.teardown(() => pub.endAsync())
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', '{}', { qos: 1 })
  await until(() => got.includes('safehouse/v1/s1/p1/alert/btn'), 'an alert delivered after the restart', 15_000)
  t.match(logs.join(''), /Server unavailable[^\n]*station broker error/, 'the refusals are logged')
})

t.test('a CONNACK refusal at the first start still fails the start at once (bad login, no MQTT 5)', async (t) => {
  const { url, close } = await aedesOnLoopback({ authenticate: (_c, _u, _p, cb) => cb(Object.assign(new Error('no'), { returnCode: 4 }), false) })
  t.teardown(close)
  const sb = new StationBroker({ url, username: 'x', password: 'y', caFile: null, clientId: 'st-bad', protocol: '3.1.1', reconnectMs: 100, log: pino({ level: 'silent' }) })
  t.teardown(() => sb.stop())
  await t.rejects(sb.start([ALERTS], () => {}), /cannot connect to the station broker/)
  t.equal(sb.client, null, 'no client left reconnecting')
})
