/**
 * Issue 2 §6, §11 and "Bad input", over real TCP sockets to the embedded
 * broker: deny by default, the ACL, and hostile payloads.
 */
import t, { type Test } from 'tap'

import mqtt, { type MqttClient } from 'mqtt'
import { connect as netConnect } from 'node:net'
import { testGateway, until, USERS } from '../../harness/test-gateway.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'

async function setup(t: Test) {
  const { gw, cleanup } = await testGateway()
  t.teardown(cleanup)
  await gw.start()
  const url = `mqtt://127.0.0.1:${gw.broker.port}`
  const login = async (u: { username: string; password: string }, clientId: string): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, { username: u.username, password: u.password, clientId, reconnectPeriod: 0 })
    t.teardown(() => c.endAsync(true))
    return c
  }
  return { gw, url, login }
}

function connackError(url: string, opts: mqtt.IClientOptions): Promise<number | string | undefined> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { ...opts, reconnectPeriod: 0, connectTimeout: 5000 })
    c.once('connect', () => { c.end(true); resolve('connected') })
    c.once('error', (e: Error & { code?: number }) => { c.end(true); resolve(e.code) })
  })
}

t.test('anonymous and wrong passwords are refused', async (t) => {
  const { gw, url } = await setup(t)
  t.equal(await connackError(url, { clientId: 'anon' }), 5, 'anonymous: not authorized')
  t.equal(await connackError(url, { clientId: 'bad', username: USERS.panel.username, password: 'wrong' }), 4, 'wrong password: bad username or password')
  t.equal(await connackError(url, { clientId: 'ghost', username: 'nobody', password: 'whatever' }), 4, 'unknown user refused the same way')
  t.equal(await connackError(url, { clientId: 'ok', username: USERS.panel.username, password: USERS.panel.password }), 'connected', 'the right password works')
  t.equal(gw.broker.counters.refusedAnonymous, 1)
  t.equal(gw.broker.counters.refusedBadLogin, 2)
})

t.test('a panel reads its post but cannot publish a fake alert or read another post', async (t) => {
  const { gw, login } = await setup(t)
  const watcher = await login(USERS.technician, 'tech')
  const seen: string[] = []
  watcher.on('message', (topic) => seen.push(topic))
  await watcher.subscribeAsync(`${ROOT}/#`, { qos: 1 })

  const panel = await login(USERS.panel, 'panel')
  const outcome: string[] = []
  for (const f of [`${ROOT}/alert/+`, 'safehouse/v1/test-city/kiosk-002/alert/+', 'safehouse/#', '#']) {
    outcome.push(await panel.subscribeAsync(f, { qos: 1 }).then(() => 'granted', () => 'refused'))
  }
  t.same(outcome, ['granted', 'refused', 'refused', 'refused'], 'own alerts granted; another post, the tree and # refused (SUBACK 0x80)')
  t.equal(gw.broker.counters.deniedSubscribe, 3)

  const closed = new Promise<void>((r) => panel.once('close', () => r()))
  panel.publish(`${ROOT}/alert/counter-button`, JSON.stringify({ v: 1, id: 'fake', kind: 'panic' }), { qos: 1 })
  await closed
  t.pass('the panel was disconnected for publishing an alert')
  t.equal(gw.broker.counters.deniedPublish, 1)
  await new Promise((r) => setTimeout(r, 200))
  t.notOk(seen.some((s) => s.includes('/alert/')), 'nobody received the fake alert')

  const panelAlerts: string[] = []
  const panel2 = await login(USERS.panel, 'panel-2')
  panel2.on('message', (topic) => panelAlerts.push(topic))
  await panel2.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  gw.twins.get('counter-button')?.act('press')
  await until(() => panelAlerts.length === 1, 'the real alert at the panel')
  t.same(panelAlerts, [`${ROOT}/alert/counter-button`])
})

t.test('a technician may send commands but not acknowledge alerts', async (t) => {
  const { gw, login } = await setup(t)
  const tech = await login(USERS.technician, 'tech')
  const replies: unknown[] = []
  tech.on('message', (_t, p) => replies.push(JSON.parse(p.toString())))
  await tech.subscribeAsync(`${ROOT}/cmd-reply/tech`, { qos: 1 })
  await tech.publishAsync(`${ROOT}/cmd/lamp-test`, JSON.stringify({ correlation_id: 'c-1', response_topic: `${ROOT}/cmd-reply/tech`, by: 'tech-1' }), { qos: 1 })
  await until(() => replies.length === 1, 'the command reply')
  t.match(replies[0], { command: 'lamp-test', correlation_id: 'c-1', ok: true })
  t.equal(gw.state.lampPattern, 'test')
  // The reply goes out in process, past the ACL: a request naming any other reply topic (here an
  // alert topic, to fake an alert) is refused before the command runs, and the client dropped.
  const watcher = await login(USERS.panel, 'panel-watch')
  const fake: string[] = []
  watcher.on('message', (topic) => fake.push(topic))
  await watcher.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })
  const forger = await login(USERS.technician, 'tech-forger')
  gw.lamp!.set('normal', 'test reset')
  const forgerClosed = new Promise<void>((r) => forger.once('close', () => r()))
  forger.publish(`${ROOT}/cmd/lamp-test`, JSON.stringify({ correlation_id: 'c-2', response_topic: `${ROOT}/alert/counter-button` }), { qos: 1 })
  await forgerClosed
  t.equal(gw.counters.refusedReplyTopics, 1)
  t.equal(gw.broker.counters.rejectedPayload, 1)
  t.equal(gw.state.lampPattern, 'normal', 'the lamp test did not run')
  t.same(fake, [], 'no reply published on an alert topic')
  const closed = new Promise<void>((r) => tech.once('close', () => r()))
  tech.publish(`${ROOT}/ack`, JSON.stringify({ id: 'x', by: 'tech' }), { qos: 1 })
  await closed
  t.equal(gw.broker.counters.deniedPublish, 1, 'ack by a technician denied')
})

t.test('malformed payloads on consumed topics are rejected and counted', async (t) => {
  const { gw, login } = await setup(t)
  const desk = await login(USERS.station, 'desk')
  const closed = new Promise<void>((r) => desk.once('close', () => r()))
  desk.publish(`${ROOT}/ack`, '{"id": 42', { qos: 1 })
  await closed
  t.equal(gw.broker.counters.rejectedPayload, 1)
  const desk2 = await login(USERS.station, 'desk-2')
  const closed2 = new Promise<void>((r) => desk2.once('close', () => r()))
  desk2.publish(`${ROOT}/ack`, JSON.stringify({ id: 'x' }), { qos: 1 })
  await closed2
  t.equal(gw.broker.counters.rejectedPayload, 2, 'schema-invalid ack (no "by") rejected too')
  t.equal(gw.outbox.stats().unknownAcks, 0, 'nothing reached the outbox')
})

t.test('an oversized packet is cut off before it is buffered', async (t) => {
  const { gw } = await setup(t)
  const sock = netConnect(gw.broker.port, '127.0.0.1')
  await new Promise<void>((r) => sock.once('connect', () => r()))
  // PUBLISH fixed header announcing 10 MB ([MQTT-2.2.3] remaining length varint).
  const closed = new Promise<void>((r) => sock.once('close', () => r()))
  sock.write(Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04]))
  await closed
  t.equal(gw.broker.counters.oversized, 1)
  // Garbage that is not MQTT at all closes the connection without crashing anything.
  const s2 = netConnect(gw.broker.port, '127.0.0.1')
  await new Promise<void>((r) => s2.once('connect', () => r()))
  const closed2 = new Promise<void>((r) => s2.once('close', () => r()))
  s2.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
  await closed2
  t.equal(await connackError(`mqtt://127.0.0.1:${gw.broker.port}`, { clientId: 'after', username: USERS.panel.username, password: USERS.panel.password }), 'connected', 'the broker still serves')
})

t.test('explicit limits: max_clients refuses the next connection; a silent socket is dropped after connect_timeout_ms', async (t) => {
  const { gw, cleanup } = await testGateway({ extra: { broker: { port: 0, max_clients: 2, connect_timeout_ms: 300, users: Object.values(USERS).map(({ username, role }) => ({ username, role })) } } })
  t.teardown(cleanup)
  await gw.start()
  const url = `mqtt://127.0.0.1:${gw.broker.port}`
  const a = await mqtt.connectAsync(url, { username: USERS.panel.username, password: USERS.panel.password, clientId: 'a', reconnectPeriod: 0 })
  const b = await mqtt.connectAsync(url, { username: USERS.panel.username, password: USERS.panel.password, clientId: 'b', reconnectPeriod: 0 })
  t.teardown(() => Promise.all([a.endAsync(true), b.endAsync(true)]))
  t.not(await connackError(url, { clientId: 'c', username: USERS.panel.username, password: USERS.panel.password }), 'connected', 'a third client is refused')
  t.equal(gw.broker.counters.refusedTooMany, 1)
  const sock = netConnect(gw.broker.port, '127.0.0.1')
  const started = Date.now()
  await new Promise<void>((r) => sock.once('close', () => r()))
  t.ok(Date.now() - started < 5000, `a socket that never sends CONNECT is closed (after ${Date.now() - started} ms)`)
})
