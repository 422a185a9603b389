/**
 * Issue 5 §2 through the whole gateway on the real stack: Gateway.create with
 * the lamp box on `driver: modbus` (serialport + modbus-serial on a socat PTY,
 * the RTU slave on the other end) and a real mosquitto as the station.
 * A press puts `alarm` on the wire; the station's ack over MQTT puts
 * `acknowledged` on the wire; the station's `silence` command (MQTT 5
 * request/response with correlation data) puts `normal` on the wire; a group
 * neighbour's alarm arriving through the station broker puts `neighbour-alarm`
 * on the wire (issue 6 §5).
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PtyPair } from '../harness/pty-pair.js'
import { LampBoxSlave } from '../harness/lamp-box-slave.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { PATTERN_CODE } from '../../protocols/lamp-box/register-map.js'
import { HwModbusLampBox } from '../../devices/lamp-box/hw-modbus.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.test('alert -> alarm, station ack -> acknowledged, silence -> normal, on the Modbus wire', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const pty = await new PtyPair('lamp-gw').open()
  t.teardown(() => pty.close())
  const slave = new LampBoxSlave(pty.b)
  await slave.open()
  t.teardown(() => slave.close())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: { devices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: pty.a, poll_ms: 200, unit_id: 1, profile: 'safehouse' },
    ] },
  })
  t.teardown(cleanup)
  t.ok(gw.lamp, 'the lamp box is the post actuator')
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-lamp', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: { id: string }[] = []
  const replies: { payload: { ok: boolean; command: string }; correlation?: string }[] = []
  station.on('message', (topic, p, packet) => {
    if (topic.includes('/alert/')) alerts.push(JSON.parse(p.toString()))
    else replies.push({ payload: JSON.parse(p.toString()), correlation: packet.properties?.correlationData?.toString() })
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, 'station/replies'], { qos: 1 })

  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => slave.requests.some((r) => r.fc === 4), 'the first poll on the wire')
  t.equal(slave.model.pattern, PATTERN_CODE.normal)

  gw.twins.get('counter-button')?.act('press')
  await until(() => slave.model.pattern === PATTERN_CODE.alarm, 'alarm on the wire')
  await until(() => alerts.length === 1, 'the alert at the station')

  await station.publishAsync(`${ROOT}/ack`, JSON.stringify({ id: alerts[0].id, by: 'operator-7' }), { qos: 1 })
  await until(() => slave.model.pattern === PATTERN_CODE.acknowledged, 'acknowledged on the wire')

  await station.publishAsync(`${ROOT}/cmd/silence`, JSON.stringify({ by: 'operator-7' }), {
    qos: 1, properties: { responseTopic: 'station/replies', correlationData: Buffer.from('corr-42') },
  })
  await until(() => slave.model.pattern === PATTERN_CODE.normal, 'normal on the wire')
  await until(() => replies.length === 1, 'the command reply')
  t.match(replies[0], { payload: { ok: true, command: 'silence' }, correlation: 'corr-42' }, 'MQTT 5 reply carries the correlation data')

  // Another post of the group (unit-1) raised an alarm; it comes through the station broker.
  const now = Date.now()
  await station.publishAsync('safehouse/v1/test-city/group/unit-1/alert', JSON.stringify({
    v: 1, id: 'test-city:kiosk-009:5', seq: 5, site: 'test-city', post: 'kiosk-009', post_type: 'safety_house', device: 'counter-button',
    device_kind: 'panic-button', label: 'Counter', location: 'front', kind: 'panic', value: 1, rssi: null, hw_time: now - 20, sent_time: now - 10, test: false,
  }), { qos: 1 })
  await until(() => slave.model.pattern === PATTERN_CODE['neighbour-alarm'], 'neighbour-alarm on the wire')
  t.equal(gw.group?.fanout.counters.relayed, 1, 'relayed once')
})

t.test('the registry builds the real Modbus driver from config', async (t) => {
  const { gw, cleanup } = await testGateway({
    extra: { devices: [{ id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: '/dev/ttyNOPE0', unit_id: 3, profile: 'generic-dido' }] },
  })
  t.teardown(cleanup)
  t.ok((gw as unknown as { drivers: unknown[] }).drivers.some((d) => d instanceof HwModbusLampBox))
})
