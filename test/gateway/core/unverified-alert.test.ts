/**
 * Issue 12 §5: an input a driver marks InputFlag.UNVERIFIED (a BLE counter
 * restarted below its high-water mark) reaches local clients and the outbox
 * as an alert with `"unverified": true`, valid against alert.schema.json;
 * other alerts carry no such field.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { InputFlag, Kind } from '../../../protocols/event-kinds.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'
import { testGateway, until, USERS } from '../../harness/test-gateway.js'

t.test('the unverified mark travels into the alert payload', async (t) => {
  const { gw, cleanup } = await testGateway()
  t.teardown(cleanup)
  await gw.start()
  const panel = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.panel.username, password: USERS.panel.password, clientId: 'screen', reconnectPeriod: 0 })
  t.teardown(() => panel.endAsync(true))
  const got: Record<string, unknown>[] = []
  panel.on('message', (_topic, p) => {
    const r = checkPayload<Record<string, unknown>>('alert', p)
    t.ok(r.ok, `schema-valid: ${r.ok ? '' : r.error}`)
    if (r.ok) got.push(r.value)
  })
  await panel.subscribeAsync('safehouse/v1/test-city/kiosk-001/alert/+', { qos: 1 })
  const dev = gw.devices.indexOf('whistle-07')
  gw.core.input(dev, Kind.WHISTLE, 1, Date.now(), -70, 1, InputFlag.UNVERIFIED)
  gw.core.input(dev, Kind.WHISTLE, 1, Date.now() + 10_000, -70, 2)
  await until(() => got.length === 2, 'both alerts at the screen')
  t.equal(got[0].unverified, true, 'the first is marked unverified')
  t.notOk('unverified' in got[1], 'the second carries no mark')
  const stored = gw.outbox.pending().map((e) => JSON.parse(Buffer.from(e.payload).toString()))
  t.same(stored.map((a) => a.unverified), [true, undefined], 'the outbox (the station\'s copy) holds the same mark')
})
