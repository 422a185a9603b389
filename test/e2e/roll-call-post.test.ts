/**
 * Issue 15 "Roll call", the post side on real components: test gateways with a
 * simulated check-in button (role: check_in) and a REAL mosquitto as the station
 * broker. The roll-call command comes over MQTT 5 like the station's; the alerts
 * are checked at the station against alert.schema.json, and the roll call shown to
 * a panel on the embedded broker (retained …/roll-call).
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { testGateway, until, USERS } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { Gateway } from '../../gateway/gateway.js'

const DEVICES = [
  { id: 'counter-button', kind: 'panic-button', driver: 'sim', label: 'Counter button' },
  { id: 'check-in', kind: 'panic-button', driver: 'sim', role: 'check_in', label: 'Check-in button' },
  { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' },
]

interface Alert { id: string; kind: string; device: string; roll_call?: string; post: string }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function post(t: Test, mosq: Mosquitto, name: string) {
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url, post: name, extra: { devices: DEVICES } })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.connected, `${name}: the uplink to connect`)
  // A panel on the post's own broker: what a local screen sees of the roll call.
  const panel = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { clientId: `panel-${name}`, username: USERS.panel.username, password: USERS.panel.password })
  t.teardown(() => panel.endAsync())
  const shown: string[] = []
  panel.on('message', (_t, p) => shown.push(p.toString()))
  await panel.subscribeAsync(gw.topics.rollCall, { qos: 1 })
  return { gw, shown }
}

async function station(t: Test, mosq: Mosquitto) {
  const c = await mqtt.connectAsync(mosq.url, { clientId: 'station-rc', protocolVersion: 5 })
  t.teardown(() => c.endAsync())
  const alerts: Alert[] = []
  const replies = new Map<string, { ok: boolean; result?: { roll_call: string }; error?: string }>()
  c.on('message', (topic, payload, packet) => {
    if (topic.includes('/alert/')) {
      const r = checkPayload<Alert>('alert', payload)
      t.ok(r.ok, `alert on ${topic} validates against alert.schema.json ${r.ok ? '' : r.error}`)
      if (r.ok) alerts.push(r.value)
    } else if (topic === 'station/replies') {
      replies.set(packet.properties?.correlationData?.toString() ?? '', JSON.parse(payload.toString()))
    }
  })
  await c.subscribeAsync(['safehouse/v1/test-city/+/alert/+', 'station/replies'], { qos: 1 })
  let n = 0
  const rollCall = async (name: string, args: object) => {
    const corr = `c-${++n}`
    await c.publishAsync(`safehouse/v1/test-city/${name}/cmd/roll-call`, JSON.stringify({ by: 'desk-3', args }), { qos: 1, properties: { responseTopic: 'station/replies', correlationData: Buffer.from(corr) } })
    await until(() => replies.has(corr), `the reply to ${corr}`)
    return replies.get(corr)!
  }
  return { alerts, rollCall }
}

const counter = (gw: Gateway, device: string, name: string) => gw.state.counters[gw.devices.indexOf(device)].get(name) ?? 0

t.test('roll call: one check_in with the id, outside presses and repeats raise nothing, a panic stays a panic; no press elsewhere -> roll_call_missed', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const st = await station(t, mosq)
  const a = await post(t, mosq, 'kiosk-001')
  const b = await post(t, mosq, 'kiosk-002')

  // Outside a roll call the check-in button raises nothing (counted).
  t.equal(a.gw.twins.get('check-in')?.act('press'), null)
  await until(() => counter(a.gw, 'check-in', 'check_in_outside_roll_call') === 1, 'the outside press to be counted')

  const bad = await st.rollCall('kiosk-001', { id: 'rc 1', deadline_s: 60 })
  t.match(bad, { ok: false, error: /args\.id/ })
  t.match(await st.rollCall('kiosk-001', { id: 'rc-e2e-1', deadline_s: 60 }), { ok: true, result: { roll_call: 'rc-e2e-1' } })
  t.match(await st.rollCall('kiosk-002', { id: 'rc-e2e-1', deadline_s: 5 }), { ok: true, result: { roll_call: 'rc-e2e-1' } })
  const t0 = Date.now()
  await until(() => a.shown.length >= 1, 'kiosk-001 panel: the roll call shown')
  t.match(JSON.parse(a.shown[0]), { v: 1, id: 'rc-e2e-1', deadline: Number })

  // A panic press during the roll call is a panic, never a check-in.
  a.gw.twins.get('counter-button')?.act('press')
  await until(() => st.alerts.some((x) => x.kind === 'panic'), 'the panic at the station')
  t.equal(a.gw.rollCall.current?.answered, false, 'a panic does not answer the roll call')

  a.gw.twins.get('check-in')?.act('press')
  await until(() => st.alerts.some((x) => x.kind === 'check_in'), 'the check_in at the station')
  await until(() => a.shown.at(-1) === '', 'kiosk-001 panel: the roll call cleared once answered')
  await sleep(300) // the first press released
  a.gw.twins.get('check-in')?.act('press')
  await until(() => counter(a.gw, 'check-in', 'check_in_repeated') === 1, 'the second press to be counted')

  // kiosk-002 never presses: one roll_call_missed from the gateway after its 5 s deadline.
  await until(() => st.alerts.some((x) => x.post === 'kiosk-002'), 'kiosk-002: roll_call_missed', 15_000)
  t.ok(Date.now() - t0 >= 4_900, 'not before the deadline')
  await until(() => b.shown.at(-1) === '', 'kiosk-002 panel: the roll call cleared at the deadline')
  await sleep(1_000) // would anything more follow?

  const ofA = st.alerts.filter((x) => x.post === 'kiosk-001')
  t.same(ofA.map((x) => x.kind).sort(), ['check_in', 'panic'], 'kiosk-001: exactly one panic and one check_in')
  t.match(ofA.find((x) => x.kind === 'check_in'), { device: 'check-in', roll_call: 'rc-e2e-1' })
  t.notOk(ofA.find((x) => x.kind === 'panic')?.roll_call, 'the panic carries no roll call')
  const ofB = st.alerts.filter((x) => x.post === 'kiosk-002')
  t.equal(ofB.length, 1, 'kiosk-002: exactly one alert')
  t.match(ofB[0], { kind: 'roll_call_missed', device: 'gateway', roll_call: 'rc-e2e-1' })
  t.equal(a.gw.rollCall.counters.missed, 0, 'the answered roll call is not missed')
  // Roll-call answers are events, not standing faults (nothing would ever restore them).
  t.equal(a.gw.state.faults[a.gw.devices.indexOf('check-in')], 0, 'the check-in device shows no fault')
  t.equal(b.gw.state.faults[0], 0, 'the gateway shows no standing fault after roll_call_missed')
})
