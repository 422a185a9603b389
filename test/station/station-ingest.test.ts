/**
 * Issue 15 on real components: a test gateway (twins) uplinks to a real
 * mosquitto; the station service reads it into SQLite. One press is exactly
 * one row; an operator's ack reaches the gateway by name; every kind of bad
 * input is rejected, counted and stored in the rejected table, never as truth.
 */
import t from 'tap'
import { testStation } from '../harness/station-service.js'
import { testGateway, until } from '../harness/test-gateway.js'

t.test('press -> one stored alert -> operator ack recorded by the gateway', async (t) => {
  const st = await testStation({ web: false })
  t.teardown(st.cleanup)
  const { gw, cleanup } = await testGateway({ stationUrl: st.mosq.url })
  t.teardown(cleanup)
  const live: string[] = []
  st.service.live.subscribe((_s, e) => { if (e.type === 'alert') live.push(e.alert.id) })
  await gw.start()
  await until(() => st.service.ingest.isKnown('test-city', 'kiosk-001'), 'the post known from its status')
  gw.twins.get('counter-button')?.act('press')
  let rows: Awaited<ReturnType<typeof st.service.store.queue>> = []
  await until(() => live.length >= 1, 'the alert live')
  await new Promise((r) => setTimeout(r, 300))
  rows = await st.service.store.alerts({ post: 'kiosk-001', kind: 'panic' })
  t.equal(rows.length, 1, 'one press, one row')
  t.equal(live.length, 1, 'one live event')
  t.match(rows[0], { site: 'test-city', post: 'kiosk-001', device: 'counter-button', cls: 'alarm', priority: 0, ackBy: null })
  const post = await st.service.store.post('test-city', 'kiosk-001')
  t.match(post, { online: true, group: 'unit-1' })
  t.ok((await st.service.store.devices('test-city', 'kiosk-001')).length >= 3, 'device rows from retained device state')

  t.same(await st.service.actions.acknowledge(st.ctx, rows[0].id, 'patrol sent'), { ok: true })
  t.same(await st.service.actions.acknowledge(st.ctx, rows[0].id, null), { ok: false, error: 'already_acknowledged' })
  t.same(await st.service.actions.acknowledge(st.ctx, 'test-city:kiosk-001:999999', null), { ok: false, error: 'unknown_alert' })
  await until(() => (gw.gatewayState() as { last_ack?: { by?: string } | null }).last_ack?.by === 'operator-7', 'the gateway records the ack by the operator')
  t.match(await st.service.store.alert(rows[0].id), { ackBy: 'operator-7', ackNote: 'patrol sent' })
  t.match(await st.service.store.audit(5), [{ action: 'ack', who: 'operator-7', target: rows[0].id, from: '127.0.0.1' }])

  const r = await st.service.actions.command(st.ctx, 'test-city', 'kiosk-001', 'status', {})
  t.equal(r.ok, true, 'a command over MQTT 5 request/response gets its reply')
  const bad = await st.service.actions.command(st.ctx, 'test-city', 'kiosk-404', 'status', {})
  t.equal(bad.ok, false, 'a post that does not answer: an error, not a hang')
})

t.test('bad input: rejected, counted, stored nowhere as truth, never a crash', async (t) => {
  const st = await testStation({ web: false })
  t.teardown(st.cleanup)
  const pub = await st.publisher()
  const root = 'safehouse/v1/s1'
  const alert = (over: Record<string, unknown> = {}) => JSON.stringify({ v: 1, id: 's1:p1:1', site: 's1', post: 'p1', device: 'btn', device_kind: 'panic-button', kind: 'panic', seq: 1, hw_time: 1, sent_time: 2, test: false, ...over })
  await pub.publishAsync(`${root}/p1/status`, JSON.stringify({ v: 1, state: 'online', since: 1 }), { qos: 1, retain: true })
  await until(() => st.service.ingest.isKnown('s1', 'p1'), 'p1 known')
  await pub.publishAsync(`${root}/p1/alert/btn`, alert(), { qos: 1 })
  await pub.publishAsync(`${root}/p1/alert/btn`, alert(), { qos: 1 }) // redelivery
  await pub.publishAsync(`${root}/p1/alert/btn`, alert({ kind: 'whistle' }), { qos: 1 }) // id reused, other content
  await pub.publishAsync(`${root}/p1/alert/btn`, '{"v":1, not json', { qos: 1 })
  await pub.publishAsync(`${root}/p1/alert/btn`, alert({ id: 's1:p1:2', seq: 2, kind: 'fire' }), { qos: 1 })
  await pub.publishAsync(`${root}/p1/alert/btn`, alert({ id: 's1:p1:3', seq: 3, post: 'p9' }), { qos: 1 })
  await pub.publishAsync(`${root}/p1/alert/other`, alert({ id: 's1:p1:4', seq: 4 }), { qos: 1 })
  await pub.publishAsync(`${root}/p1/state`, JSON.stringify({ v: 1 }), { qos: 1 })
  await pub.publishAsync(`${root}/p2/alert/btn`, alert({ id: 's1:p2:1', post: 'p2' }), { qos: 1 }) // unknown post
  await pub.publishAsync(`${root}/p1/alert/btn`, Buffer.from([0xff, 0x00, 0xfe, 0x7b]), { qos: 1 })
  const c = st.service.counters
  await until(() => c.get('rejected') >= 8, 'eight rejections counted', 10_000)
  await st.service.ingest.writer.flush()
  t.equal(c.get('alerts_stored'), 1)
  t.equal(c.get('alerts_duplicate'), 1)
  t.equal(c.get('rejected_id_conflict'), 1)
  t.equal(c.get('rejected_schema'), 4, 'not JSON, unknown kind, incomplete state, binary garbage')
  t.equal(c.get('rejected_topic_mismatch'), 2, 'post and device differ from the topic')
  t.equal(c.get('rejected_unknown_post'), 1)
  const all = await st.service.store.alerts({})
  t.same(all.map((a) => [a.id, a.kind]), [['s1:p1:1', 'panic']], 'only the good alert is truth; the first content stays')
  const rej = await st.service.store.rejected(20)
  t.equal(rej.length, 8)
  t.ok(rej.some((r) => r.reason.includes('reused with different content')))
  t.ok(rej.some((r) => r.reason.includes('unknown')))
  t.equal(st.service.health.dbOk(), true)
  t.equal(st.service.health.brokerConnected(), true)
})
