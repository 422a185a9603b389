/**
 * Issue 16: a station service must start while one node of its clustered broker is down.
 * Before, the first node's "connection refused" failed the start although failover_urls named
 * a healthy node. Real mosquitto as the healthy node; the dead nodes are closed loopback ports.
 */
import t from 'tap'
import mqtt from 'mqtt'
import pino from 'pino'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { StationBroker } from '../../station/ingest/station-broker.js'

const dead = async (): Promise<string> => `mqtt://127.0.0.1:${await freePort()}`

function broker(url: string, failoverUrls: string[], warnings: string[] = []): StationBroker {
  const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(line) } })
  return new StationBroker({ url, failoverUrls, username: null, password: null, caFile: null, clientId: `st-start-${Math.random().toString(36).slice(2, 8)}`, log, reconnectMs: 100 })
}

t.test('first node down: starts on the next node and receives', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const warnings: string[] = []
  const b = broker(await dead(), [mosq.url], warnings)
  t.teardown(() => b.stop())
  const got: string[] = []
  await b.start(['safehouse/v1/+/+/alert/#'], (topic) => got.push(topic))
  t.ok(b.connected, 'connected to the healthy node')
  t.match(warnings.join(''), /station broker node unreachable; trying the next node/, 'the dead node is logged')
  const pub = await mqtt.connectAsync(mosq.url)
  t.teardown(() => pub.endAsync())
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', '{}', { qos: 1 })
  const deadline = Date.now() + 5000
  while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.same(got, ['safehouse/v1/s1/p1/alert/btn'], 'subscribed before start() resolved: the alert arrives')
})

t.test('every node down: the start fails once each node refused, naming the count', async (t) => {
  const b = broker(await dead(), [await dead(), await dead()])
  t.teardown(() => b.stop())
  await t.rejects(b.start(['x/#'], () => {}), /cannot connect to the station broker \(none of its 3 nodes\): .*ECONNREFUSED/)
  t.equal(b.client, null, 'no client left reconnecting in the background')
})

t.test('one node, down: fails at once as before', async (t) => {
  const b = broker(await dead(), [])
  await t.rejects(b.start(['x/#'], () => {}), /^cannot connect to the station broker: .*ECONNREFUSED/)
})
