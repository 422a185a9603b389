/**
 * Issue 6: a data directory the outbox cannot use -> a clear error in the
 * gateway state, and alerts still fan out locally.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { testGateway, until, USERS } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

t.test('outbox cannot open: the gateway runs, says why, and still fans out alerts', async (t) => {
  const { gw, dir, cleanup } = await testGateway({ outbox: 'file' })
  t.teardown(cleanup)
  // data_dir/outbox is a plain file: the log directory cannot be created (ENOTDIR/EEXIST).
  const { mkdirSync } = await import('node:fs')
  mkdirSync(join(dir, 'data'), { recursive: true })
  writeFileSync(join(dir, 'data', 'outbox'), 'not a directory')
  await gw.start()
  const panel = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.panel.username, password: USERS.panel.password, clientId: 'p' })
  t.teardown(() => panel.endAsync(true))
  const got: string[] = []
  const states: { outbox_problem?: string }[] = []
  panel.on('message', (topic, p) => {
    if (topic.includes('/alert/')) got.push(JSON.parse(p.toString()).kind)
    else states.push(JSON.parse(p.toString()))
  })
  await panel.subscribeAsync(['safehouse/v1/test-city/kiosk-001/alert/+', 'safehouse/v1/test-city/kiosk-001/state'], { qos: 1 })
  gw.twins.get('counter-button')?.act('press')
  await until(() => got.length === 1, 'the alert on the local broker')
  t.same(got, ['panic'])
  await until(() => states.some((s) => !!s.outbox_problem), 'the outbox problem in the retained state', 5000)
  const s = states.find((x) => x.outbox_problem) as { outbox_problem: string }
  t.match(s.outbox_problem, /outbox/, 'names the outbox')
  t.match(s.outbox_problem, /NOT stored durably/, 'says what it means')
  t.ok(checkPayload('gatewayState', Buffer.from(JSON.stringify(s))).ok, 'state still schema-valid')
})
