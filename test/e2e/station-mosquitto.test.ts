/**
 * Issue 2 §11, end to end on real components: the gateway with its twins, the
 * embedded broker, and a REAL mosquitto as the station broker, started here.
 * A station subscriber sees exactly one schema-valid alert for one press, acks
 * it, and the gateway records the ack in its retained state.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import { Mosquitto } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

t.test('press -> one alert at the station -> ack recorded (MQTT 5 to mosquitto)', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url })
  t.teardown(cleanup)

  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-test', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: { topic: string; payload: Buffer }[] = []
  const states: unknown[] = []
  const statuses: string[] = []
  station.on('message', (topic, payload) => {
    if (topic.includes('/alert/')) alerts.push({ topic, payload })
    else if (topic.endsWith('/kiosk-001/state')) states.push(JSON.parse(payload.toString()))
    else if (topic.endsWith('/status')) statuses.push(JSON.parse(payload.toString()).state)
  })
  await station.subscribeAsync(['safehouse/v1/test-city/+/alert/+', 'safehouse/v1/test-city/kiosk-001/state', 'safehouse/v1/test-city/kiosk-001/status'], { qos: 1 })

  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect')
  t.equal(gw.uplink.protocolVersion, 5, 'mosquitto speaks MQTT 5: no fallback')
  await until(() => statuses.includes('online'), 'retained online status')

  t.equal(gw.twins.get('counter-button')?.act('press'), null, 'the twin accepts a press')
  await until(() => alerts.length >= 1, 'the alert at the station')
  await new Promise((r) => setTimeout(r, 500)) // would a duplicate follow?
  t.equal(alerts.length, 1, 'exactly one alert for one press')
  const a = alerts[0]
  t.equal(a.topic, 'safehouse/v1/test-city/kiosk-001/alert/counter-button')
  const parsed = checkPayload<{ id: string; kind: string; device: string; hw_time: number; sent_time: number; label: string }>('alert', a.payload)
  t.ok(parsed.ok, `alert validates against alert.schema.json ${parsed.ok ? '' : parsed.error}`)
  if (!parsed.ok) return
  t.match(parsed.value, { kind: 'panic', device: 'counter-button', label: 'Counter "main" button' })
  t.match(parsed.value.id, /^test-city:kiosk-001:\d+$/)
  t.ok(parsed.value.sent_time >= parsed.value.hw_time, 'sent after the hardware saw it')
  t.equal(gw.outbox.stats().depth, 1, 'the alert waits in the outbox for the ack')

  await station.publishAsync('safehouse/v1/test-city/kiosk-001/ack', JSON.stringify({ id: parsed.value.id, by: 'operator-7' }), { qos: 1 })
  await until(() => gw.outbox.stats().depth === 0, 'the outbox to drop the acked alert')
  await until(() => states.some((s) => (s as { last_ack: { id: string } | null }).last_ack?.id === parsed.value.id), 'retained gateway state with the ack')
  const st = states.find((s) => (s as { last_ack: { id: string } | null }).last_ack?.id === parsed.value.id) as { last_ack: { by: string }; recent_acks: { acknowledged_by: string }[] }
  t.ok(checkPayload('gatewayState', Buffer.from(JSON.stringify(st))).ok, 'gateway state validates against its schema')
  t.equal(st.last_ack.by, 'operator-7', 'who acknowledged is recorded')
  t.equal(st.recent_acks.at(-1)?.acknowledged_by, 'operator-7')
  t.equal(gw.state.lampPattern, 'acknowledged', 'the lamp box shows acknowledged')

  // An ack for an id that was never raised is ignored and counted.
  await station.publishAsync('safehouse/v1/test-city/kiosk-001/ack', JSON.stringify({ id: 'test-city:kiosk-001:999999', by: 'x' }), { qos: 1 })
  await until(() => gw.counters.unknownAcks === 1, 'the unknown ack to be counted')
})

t.test('station down: alert waits in the outbox, delivered with the same id after it returns', async (t) => {
  const mosq = await new Mosquitto({ persistent: true }).start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url })
  t.teardown(cleanup)
  // The station's console keeps a persistent session, as a command room's would.
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-test-2', clean: false, reconnectPeriod: 100 })
  t.teardown(() => station.endAsync(true))
  const got: string[] = []
  station.on('message', (_t, p) => got.push(JSON.parse(p.toString()).id))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect')
  await mosq.stop()
  await until(() => !gw.uplink.connected, 'the uplink to notice the outage')
  const localT0 = Date.now()
  gw.twins.get('counter-button')?.act('press')
  await until(() => gw.outbox.stats().depth === 1, 'the alert in the outbox')
  t.ok(Date.now() - localT0 < 2000, 'a dead station does not delay accepting the alert')
  const id = gw.outbox.pending()[0].id
  await mosq.start()
  await until(() => got.length >= 1, 'the replayed alert', 15_000)
  t.equal(got[0], id, 'delivered with the id it was accepted with')
})

t.test('MQTT 3.1.1-only station broker (aedes): the uplink falls back and still delivers', async (t) => {
  const aedes = await Aedes.createBroker({})
  const server = createServer((sock) => aedes.handle(sock))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => server.close(() => aedes.close(() => r()))))
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`
  const { gw, cleanup } = await testGateway({ stationUrl: url })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(url, { clientId: 'station-311', protocolVersion: 4 })
  t.teardown(() => station.endAsync())
  const got: string[] = []
  station.on('message', (_t, p) => got.push(JSON.parse(p.toString()).kind))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect after falling back')
  t.equal(gw.uplink.protocolVersion, 4, 'speaks MQTT 3.1.1')
  t.equal(gw.uplink.counters.fallbacks, 1, 'one fallback counted')
  gw.twins.get('counter-button')?.act('press')
  await until(() => got.length === 1, 'the alert over 3.1.1')
  t.same(got, ['panic'])
})

t.test('an alert not acknowledged in time is re-sent with the same id and escalated once', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url, station: { ack_timeout_s: 1 } })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-esc' })
  t.teardown(() => station.endAsync())
  const got: { id: string; kind: string }[] = []
  station.on('message', (_t, p) => got.push(JSON.parse(p.toString())))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect')
  gw.twins.get('counter-button')?.act('press')
  await until(() => got.filter((a) => a.kind === 'panic').length >= 2, 'the re-sent alert', 10_000)
  const panics = got.filter((a) => a.kind === 'panic')
  t.equal(panics[0].id, panics[1].id, 'the repeat carries the same id')
  await until(() => got.some((a) => a.kind === 'escalation'), 'the escalation alert', 10_000)
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(new Set(got.filter((a) => a.kind === 'escalation').map((a) => a.id)).size, 1, 'one escalation alert (re-sent like any alert, same id), however long it waits')
})
