/**
 * docs/protocol.md §Escalation, as it really behaves (issue 14 §4): when many
 * alerts of one device go unacknowledged together, every alert is re-sent but
 * the station gets one escalation per device (naming the device, not the
 * alert), the rest merged by the core's dedupe and counted as duplicates.
 * Real gateway, real mosquitto as a station that never acknowledges.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { testGateway, until } from '../../harness/test-gateway.js'
import { Mosquitto } from '../../harness/mosquitto.js'
import { Kind } from '../../../protocols/event-kinds.js'

t.setTimeout(60_000)

t.test('a burst of unacknowledged alerts: all re-sent, one escalation per device', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url, station: { ack_timeout_s: 1 } })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'silent-station' })
  t.teardown(() => station.endAsync())
  const received: { device: string; kind: string; id: string; value: number }[] = []
  station.on('message', (_t, p) => received.push(JSON.parse(p.toString())))
  await station.subscribeAsync('safehouse/v1/test-city/kiosk-001/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')

  const PER_DEVICE = 20
  const devices = ['counter-button', 'whistle-07']
  const now = Date.now()
  for (const id of devices) {
    const d = gw.devices.indexOf(id)
    // Distinct packet ids: 20 real alerts per device, none merged on the way in.
    for (let k = 0; k < PER_DEVICE; k++) t.ok(gw.core.input(d, Kind.PANIC, 1, now + k, Number.NaN, 1000 + k))
  }
  const raised = PER_DEVICE * devices.length
  await until(() => received.filter((a) => a.kind === 'panic').length >= 2 * raised, 'every alert sent and re-sent', 20_000)
  await new Promise((r) => setTimeout(r, 1500)) // would more escalations follow?
  const escalations = received.filter((a) => a.kind === 'escalation')
  const firstSends = new Set(received.filter((a) => a.kind === 'panic').map((a) => a.id))
  t.equal(firstSends.size, raised, 'all 40 alerts reached the station')
  for (const id of devices) {
    const mine = new Set(escalations.filter((e) => e.device === id).map((e) => e.id))
    t.equal(mine.size, 1, `${id}: one escalation for its ${PER_DEVICE} unacknowledged alerts`)
  }
  t.ok(escalations.every((e) => e.value >= 1), 'value: seconds waited')
  t.ok(gw.core.counters.duplicates >= raised - devices.length, `the other escalations were merged by the dedupe (duplicates ${gw.core.counters.duplicates})`)
})
