/**
 * Issue 15 bad input: the database becomes unreachable (a real PostgreSQL,
 * stopped). Health says so loudly, alerts arriving meanwhile are shown live
 * from memory, nothing is acknowledged on anyone's behalf (an operator's ack
 * is refused), and when the database returns the held rows are written.
 */
import t from 'tap'
import { Postgres } from '../harness/postgres.js'
import { testStation } from '../harness/station-service.js'
import { until } from '../harness/test-gateway.js'
import type { LiveEvent } from '../../station/station-api.js'

t.setTimeout(90_000)

t.test('PostgreSQL down and back: held in memory, acks refused, written after', async (t) => {
  const pg = await new Postgres().start()
  t.teardown(() => pg.close())
  const st = await testStation({ web: false, storeUrl: await pg.database('outage') })
  t.teardown(st.cleanup)
  const events: LiveEvent[] = []
  st.service.live.subscribe((_s, e) => events.push(e))
  const pub = await st.publisher()
  const alert = (seq: number) => JSON.stringify({ v: 1, id: `s1:p1:${seq}`, site: 's1', post: 'p1', device: 'btn', device_kind: 'panic-button', kind: 'panic', seq, hw_time: seq, sent_time: seq, test: false })
  await pub.publishAsync('safehouse/v1/s1/p1/status', JSON.stringify({ v: 1, state: 'online', since: 1 }), { qos: 1, retain: true })
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', alert(1), { qos: 1 })
  await until(() => st.service.counters.get('alerts_stored') === 1, 'alert 1 stored')

  await pg.stop()
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', alert(2), { qos: 1 })
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', alert(3), { qos: 1 })
  await until(() => !st.service.health.dbOk(), 'health flags the database', 15_000)
  t.ok(events.some((e) => e.type === 'db' && !e.ok && e.error), 'a loud db event with the error')
  await until(() => events.filter((e) => e.type === 'alert').length === 3, 'alerts 2 and 3 shown live from memory')
  t.same(await st.service.actions.acknowledge(st.ctx, 's1:p1:1', null), { ok: false, error: 'db_down' }, 'no ack while the database is down')
  t.equal(st.service.counters.get('alerts_stored'), 1)
  t.ok(st.service.ingest.writer.held >= 2, 'rows held in memory')

  await pg.start()
  await until(() => st.service.health.dbOk(), 'the database is back', 20_000)
  await until(() => st.service.counters.get('alerts_stored') === 3, 'held alerts written')
  t.same((await st.service.store.alerts({})).map((a) => a.id).sort(), ['s1:p1:1', 's1:p1:2', 's1:p1:3'])
  t.equal(events.filter((e) => e.type === 'alert').length, 3, 'each alert shown live once')
  t.ok(events.some((e) => e.type === 'db' && e.ok), 'the all-clear event')
  t.same(await st.service.actions.acknowledge(st.ctx, 's1:p1:2', 'late but by a person'), { ok: true })
})
