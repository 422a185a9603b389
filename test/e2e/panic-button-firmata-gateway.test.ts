/**
 * Issue 3 through the whole gateway on the real stack: Gateway.create with a
 * `driver: firmata` button (johnny-five + firmata-io + serialport on a socat
 * PTY, the Firmata peer on the other end) and a real mosquitto as the station.
 * A press on the peer arrives as one alert at the station; pulling the board
 * shows up in the button's retained device state.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PtyPair } from '../harness/pty-pair.js'
import { FirmataPeer } from '../harness/firmata-peer.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.test('Firmata press -> one alert at the station; unplug -> fault in the retained device state', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const pty = await new PtyPair('firmata-gw').open()
  const peer = await FirmataPeer.open(pty.b)
  t.teardown(async () => { await peer.close(); await pty.close() })
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: {
      boards: [{ id: 'main', port: pty.a, version_query_ms: 100 }],
      devices: [{ id: 'counter', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2, label: 'Counter button' }],
    },
  })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-firmata' })
  t.teardown(() => station.endAsync())
  const alerts: { kind: string; device: string }[] = []
  const states: { status: string; status_reason: string }[] = []
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) {
      t.ok(checkPayload('alert', p).ok, 'alert is schema-valid')
      alerts.push(JSON.parse(p.toString()))
    } else states.push(JSON.parse(p.toString()))
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/device/counter/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await peer.until(() => peer.isReportingDigital(2), 'the board to report pin 2', 10_000)
  await until(() => states.some((s) => s.status === 'online'), 'the button online in device state')

  peer.setDigital(2, 0)
  await until(() => alerts.length >= 1, 'the alert at the station')
  peer.setDigital(2, 1)
  await new Promise((r) => setTimeout(r, 300))
  t.same(alerts.map((a) => [a.kind, a.device]), [['panic', 'counter']], 'exactly one panic alert')

  await pty.unplug()
  await until(() => states.some((s) => s.status === 'fault'), 'the fault in the retained device state', 6000)
  t.ok(states.find((s) => s.status === 'fault')?.status_reason, 'the fault says why')
})
