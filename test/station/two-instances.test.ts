/**
 * Two station instances on one PostgreSQL and one mosquitto (issue 15: a
 * second instance never makes a second row): both read every alert, the
 * database keeps one, both consoles show it (issue 16 §3: the instance that
 * finds a duplicate shows the stored row); an ack on one instance is shown
 * live on the other.
 */
import t from 'tap'
import { Postgres } from '../harness/postgres.js'
import { Mosquitto } from '../harness/mosquitto.js'
import { testStation } from '../harness/station-service.js'
import { until } from '../harness/test-gateway.js'
import type { LiveEvent } from '../../station/station-api.js'

t.setTimeout(90_000)

t.test('one row per alert, acks seen by both', async (t) => {
  const pg = await new Postgres().start()
  t.teardown(() => pg.close())
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const url = await pg.database('shared')
  const a = await testStation({ web: false, storeUrl: url, mosq })
  t.teardown(a.cleanup)
  const b = await testStation({ web: false, storeUrl: url, mosq })
  t.teardown(b.cleanup)
  const seenB: LiveEvent[] = []
  b.service.live.subscribe((_s, e) => seenB.push(e))
  const seenA: LiveEvent[] = []
  a.service.live.subscribe((_s, e) => seenA.push(e))
  const liveIds = (seen: LiveEvent[]) => new Set(seen.flatMap((e) => (e.type === 'alert' ? [e.alert.id] : [])))
  const pub = await a.publisher()
  await pub.publishAsync('safehouse/v1/s1/p1/status', JSON.stringify({ v: 1, state: 'online', since: 1 }), { qos: 1, retain: true })
  await until(() => a.service.ingest.isKnown('s1', 'p1') && b.service.ingest.isKnown('s1', 'p1'), 'both know p1')
  for (let seq = 1; seq <= 20; seq++) {
    await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', JSON.stringify({ v: 1, id: `s1:p1:${seq}`, site: 's1', post: 'p1', device: 'btn', device_kind: 'panic-button', kind: 'panic', seq, hw_time: seq, sent_time: seq, test: false }), { qos: 1 })
  }
  const done = () => a.service.counters.get('alerts_stored') + a.service.counters.get('alerts_duplicate') === 20 && b.service.counters.get('alerts_stored') + b.service.counters.get('alerts_duplicate') === 20
  await until(done, 'both instances took in all 20')
  t.equal(a.service.counters.get('alerts_stored') + b.service.counters.get('alerts_stored'), 20, 'each alert stored by exactly one instance')
  t.equal((await a.service.store.alerts({})).length, 20, 'twenty rows, not forty')
  t.equal(a.service.counters.get('rejected') + b.service.counters.get('rejected'), 0)
  // Issue 16 §3: each console shows every alert, whichever instance stored it first.
  await until(() => liveIds(seenA).size === 20 && liveIds(seenB).size === 20, 'all twenty on both live feeds')
  t.pass('every alert on both instances\' live feeds')

  t.same(await a.service.actions.acknowledge(a.ctx, 's1:p1:5', 'from desk A'), { ok: true })
  await until(() => seenB.some((e) => e.type === 'ack' && e.id === 's1:p1:5' && e.by === 'operator-7'), 'instance B shows the ack live')
  t.same(await b.service.actions.acknowledge(b.ctx, 's1:p1:5', null), { ok: false, error: 'already_acknowledged' }, 'B cannot ack it again')
})

t.test('an alert the broker never brought to instance B still reaches B\'s consoles, from the database', async (t) => {
  // Each instance on its own mosquitto: B's broker never carries A's alerts, the harshest form of
  // the gap the city run saw on a RabbitMQ cluster (store-catch-up.ts).
  const pg = await new Postgres().start()
  t.teardown(() => pg.close())
  const url = await pg.database('catchup')
  const a = await testStation({ web: false, storeUrl: url, over: { catchUpMs: 300 } })
  t.teardown(a.cleanup)
  const b = await testStation({ web: false, storeUrl: url, over: { catchUpMs: 300 } })
  t.teardown(b.cleanup)
  const seenB: LiveEvent[] = []
  b.service.live.subscribe((_s, e) => seenB.push(e))
  const alertsOnB = (id: string) => seenB.filter((e) => e.type === 'alert' && e.alert.id === id).length
  const alert = (post: string, seq: number) => JSON.stringify({ v: 1, id: `s1:${post}:${seq}`, site: 's1', post, device: 'btn', device_kind: 'panic-button', kind: 'panic', seq, hw_time: seq, sent_time: seq, test: false })
  const status = JSON.stringify({ v: 1, state: 'online', since: 1 })

  const pubA = await a.publisher()
  await pubA.publishAsync('safehouse/v1/s1/p1/status', status, { qos: 1, retain: true })
  await until(() => a.service.ingest.isKnown('s1', 'p1'), 'A knows p1')
  await pubA.publishAsync('safehouse/v1/s1/p1/alert/btn', alert('p1', 1), { qos: 1 })
  await pubA.publishAsync('safehouse/v1/s1/p1/alert/btn', alert('p1', 2), { qos: 1 })
  await until(() => alertsOnB('s1:p1:1') === 1 && alertsOnB('s1:p1:2') === 1, 'both of A\'s alerts on B\'s live feed')
  t.equal(b.service.counters.get('alerts_caught_up'), 2, 'counted as caught up from the database')

  // What B took in from its own broker is shown once, not again by the catch-up.
  const pubB = await b.publisher()
  await pubB.publishAsync('safehouse/v1/s1/p2/status', status, { qos: 1, retain: true })
  await until(() => b.service.ingest.isKnown('s1', 'p2'), 'B knows p2')
  await pubB.publishAsync('safehouse/v1/s1/p2/alert/btn', alert('p2', 1), { qos: 1 })
  await until(() => alertsOnB('s1:p2:1') === 1, 'B\'s own alert live')
  await new Promise((r) => setTimeout(r, 1500)) // five catch-up reads
  t.equal(alertsOnB('s1:p1:1') + alertsOnB('s1:p1:2'), 2, 'each caught-up alert shown once')
  t.equal(alertsOnB('s1:p2:1'), 1, 'B\'s own alert not shown a second time')
  t.equal(b.service.counters.get('alerts_caught_up'), 2)
  t.equal(a.service.counters.get('alerts_caught_up'), 1, 'A in turn catches up B\'s alert')

  // An operator at A acknowledges: the echo goes out on A's broker only; B's consoles, which show
  // the alert open, get the ack from the database.
  t.same(await a.service.actions.acknowledge(a.ctx, 's1:p1:1', 'patrol sent'), { ok: true })
  await until(() => seenB.some((e) => e.type === 'ack' && e.id === 's1:p1:1' && e.by === 'operator-7' && e.note === 'patrol sent'), 'the ack on B\'s live feed')
  t.equal(b.service.counters.get('acks_caught_up'), 1)
  await new Promise((r) => setTimeout(r, 1000)) // more catch-up reads
  t.equal(seenB.filter((e) => e.type === 'ack' && e.id === 's1:p1:1').length, 1, 'the ack shown once')
  t.equal(seenB.filter((e) => e.type === 'ack').length, 1, 'no other ack invented')
})
