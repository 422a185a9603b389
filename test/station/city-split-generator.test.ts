/**
 * Issue 16 §4: the city run's load generator split over processes
 * (test/harness/split-fleet.ts). Two generator processes, 20 posts, against a
 * real mosquitto and a stand-in station that acknowledges every alert it
 * receives: the union of what the processes report raising is exactly what
 * the run asked for (and what reached the station), each post lives in one
 * process only, every alert is acknowledged at its post, and each process
 * reports its own event-loop delay. The union check itself refuses a post in
 * two processes, a missing alert and a reordered one.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { SplitFleet, checkUnion } from '../harness/split-fleet.js'
import { until } from '../harness/until.js'

t.setTimeout(60_000)

t.test('two generator processes raise exactly the alerts asked of their posts, all acknowledged', async (t) => {
  const broker = await new Mosquitto().start()
  t.teardown(() => broker.close())
  // The station: acknowledges every alert by id on its post's ack topic.
  const station = await mqtt.connectAsync(broker.url, { clientId: 'split-station', clean: true })
  t.teardown(() => station.endAsync(true))
  const atStation = new Map<string, number>()
  station.on('message', (topic, payload) => {
    const id = (JSON.parse(payload.toString()) as { id: string }).id
    atStation.set(id, (atStation.get(id) ?? 0) + 1)
    station.publish(topic.replace(/\/alert\/[^/]+$/, '/ack'), JSON.stringify({ v: 1, id }), { qos: 1 })
  })
  await station.subscribeAsync('safehouse/v1/split/+/alert/+', { qos: 1 })

  const postName = (i: number) => `kiosk-${String(i + 1).padStart(4, '0')}`
  const fleet = new SplitFleet({ procs: 2, site: 'split', posts: 20, devices: 10, nodes: [broker.url], postName, protocolVersion: 4, stateEveryMs: 10_000, testReportEveryMs: 20_000 })
  t.teardown(() => fleet.stop())
  t.equal(fleet.procs, 2, 'two processes')
  await fleet.ready()
  await fleet.start(30_000)
  await until(() => fleet.allConnectedSince() !== null && fleet.stats.connected === 20, 'every post connected (as the processes report)', 10_000)
  fleet.lagStart()
  const asked: string[] = []
  for (let i = 0; i < 20; i++) asked.push(fleet.raise(i, i % 10)) // every post, both slices
  for (let k = 0; k < 130; k++) asked.push(fleet.raise()) // random posts, in one turn: a burst
  await new Promise((r) => setTimeout(r, 50))
  for (let k = 0; k < 50; k++) asked.push(fleet.raise(k % 20))
  await until(() => fleet.stats.raised === 200 && fleet.stats.pending === 0, 'every alert raised and acknowledged at its post', 20_000)
  fleet.lagStop()
  const rep = await fleet.report()

  t.equal(new Set(asked).size, 200, '200 distinct ids asked for')
  t.strictSame(rep.raisedIds, asked, 'the processes raised exactly what was asked (checked per post and in order by report())')
  t.strictSame(new Set(rep.firstSent.keys()), new Set(asked), 'each was sent')
  t.strictSame(new Set(atStation.keys()), new Set(asked), 'the station received exactly those ids, no other')
  t.equal(rep.pendingIds.length, 0, 'none left in an outbox')
  t.equal(rep.stats.acked, 200, '200 acks at their posts')
  t.equal(rep.stats.unknownAcks, 0, 'no ack for an id a post did not hold')
  t.equal(rep.stats.connects, 20, 'each post connected once: no post runs in two processes (the broker would take one session over)')
  t.strictSame(rep.slices.map((s) => s.posts), ['kiosk-0001..kiosk-0010', 'kiosk-0011..kiosk-0020'], 'contiguous slices')
  t.equal(new Set(rep.slices.map((s) => s.pid)).size, 2, 'two processes')
  t.ok(!rep.slices.map((s) => s.pid).includes(process.pid), 'neither is this process')
  for (const s of rep.slices) t.ok(Number.isFinite(s.lag.p99) && s.lag.max >= s.lag.p99 && s.lag.cpuPct > 0, `process ${s.pid}: event-loop delay p99 ${s.lag.p99.toFixed(1)} ms, max ${s.lag.max.toFixed(1)} ms, CPU ${s.lag.cpuPct.toFixed(1)} % of a core`)
  await fleet.stop()
})

t.test('the union check refuses a post in two processes, a missing alert, a reordered one', async (t) => {
  const slices = [{ first: 0, count: 1 }, { first: 1, count: 1 }]
  const asked = ['s:a:1', 's:b:1', 's:a:2']
  const ok = [{ pid: 1, firstIndex: 0, posts: 1, raisedIds: ['s:a:1', 's:a:2'] }, { pid: 2, firstIndex: 1, posts: 1, raisedIds: ['s:b:1'] }]
  t.doesNotThrow(() => checkUnion(asked, ok, slices), 'the exact union passes')
  t.throws(() => checkUnion(asked, [ok[0], { ...ok[1], raisedIds: ['s:b:1', 's:a:3'] }], slices), /two generator processes|raised 4/, 'a post raising in two processes')
  t.throws(() => checkUnion(asked, [{ ...ok[0], raisedIds: ['s:a:1'] }, ok[1]], slices), /raised 2 alerts/, 'an alert missing')
  t.throws(() => checkUnion(asked, [{ ...ok[0], raisedIds: ['s:a:2', 's:a:1'] }, ok[1]], slices), /post s:a raised/, 'an alert out of order')
  t.throws(() => checkUnion(asked, [ok[0], { ...ok[1], firstIndex: 0 }], slices), /not its slice/, 'a process on another slice')
})
