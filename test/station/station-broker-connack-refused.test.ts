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
import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import { StationBroker } from '../../station/ingest/station-broker.js'

const ALERTS = 'safehouse/v1/+/+/alert/#'

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('CONNACK "server unavailable" after a connection loss: the station keeps reconnecting and receives again', async (t) => {
  let booting = false
  let refused = 0
  const aedes = await Aedes.createBroker({
    authenticate: (_c, _u, _p, cb) => {
      if (!booting) return cb(null, true)
      refused++
      cb(Object.assign(new Error('booting'), { returnCode: 3 }), false)
    },
  })
  const server = createServer((sock) => aedes.handle(sock))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => server.close(() => aedes.close(() => r()))))
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`

  const logs: string[] = []
  const sb = new StationBroker({ url, username: null, password: null, caFile: null, clientId: 'st-connack', protocol: '3.1.1', reconnectMs: 100, log: pino({ level: 'info' }, { write: (l: string) => { logs.push(l) } }) })
  t.teardown(() => sb.stop())
  const got: string[] = []
  await sb.start([ALERTS], (topic) => got.push(topic))
  t.ok(sb.connected, 'connected')

  // The node goes down and comes back booting: its CONNACKs say "server unavailable" for a while.
  booting = true
  for (const c of Object.values((aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients)) c.conn.destroy()
  await until(() => refused >= 3, 'three refused reconnects')
  t.notOk(sb.connected, 'not connected while the broker refuses')
  booting = false
  await until(() => sb.connected, 'the station reconnected once the broker accepts again', 10_000)

  const pub = await mqtt.connectAsync(url, { clientId: 'gw' })
  t.teardown(() => pub.endAsync())
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', '{}', { qos: 1 })
  await until(() => got.includes('safehouse/v1/s1/p1/alert/btn'), 'an alert delivered after the restart')
  t.match(logs.join(''), /Server unavailable[^\n]*station broker error/, 'the refusals are logged')
})

t.test('a CONNACK refusal at the first start still fails the start at once (bad login, no MQTT 5)', async (t) => {
  const aedes = await Aedes.createBroker({ authenticate: (_c, _u, _p, cb) => cb(Object.assign(new Error('no'), { returnCode: 4 }), false) })
  const server = createServer((sock) => aedes.handle(sock))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => server.close(() => aedes.close(() => r()))))
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`
  const sb = new StationBroker({ url, username: 'x', password: 'y', caFile: null, clientId: 'st-bad', protocol: '3.1.1', reconnectMs: 100, log: pino({ level: 'silent' }) })
  t.teardown(() => sb.stop())
  await t.rejects(sb.start([ALERTS], () => {}), /cannot connect to the station broker/)
  t.equal(sb.client, null, 'no client left reconnecting')
})
