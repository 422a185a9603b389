/**
 * Group fan-out rules (issue 6 §5) without sockets: what goes out on which
 * path, and which incoming group alerts are relayed (once) or refused.
 * The real-broker proof is test/e2e/group-fanout.test.ts.
 */
import t from 'tap'
import { pino } from 'pino'
import { GroupFanout, type NeighbourAlert, type PeerPath } from '../../../gateway/group/group-fanout.js'
import { RecentIds } from '../../../gateway/group/recent-ids.js'
import { FakeClock } from '../../../devices/time/clock.js'
import { EventClass, Kind } from '../../../protocols/event-kinds.js'
import type { CoreEvent } from '../../../gateway/core/event-core.js'

const TOPIC = 'safehouse/v1/city/group/unit-1/alert'
const NOW = 1_700_000_000_000

function rig(o: { stationUp?: boolean; peersUp?: boolean[] } = {}) {
  const clock = new FakeClock(NOW)
  const station = { connected: o.stationUp ?? true, sent: [] as string[], publish(topic: string, p: Buffer) { this.sent.push(topic + ' ' + p) } }
  const peers = (o.peersUp ?? [true, false]).map((up, i): PeerPath & { sent: string[] } => ({
    post: `kiosk-00${i + 2}`, state: up ? 'connected' : 'disconnected', connected: up, sent: [],
    publish(topic: string, p: Buffer) { if (!up) return false; this.sent.push(topic + ' ' + p); return true },
  }))
  const relayed: NeighbourAlert[] = []
  const g = new GroupFanout({ site: 'city', post: 'kiosk-001', topic: TOPIC, maxAgeMs: 60_000, clock, log: pino({ level: 'silent' }), station, peers, relay: (a) => relayed.push(a) })
  return { g, clock, station, peers, relayed }
}

const ev = (kind: number, o: Partial<CoreEvent> = {}): CoreEvent => ({
  device: 1, kind, cls: kind < 32 ? EventClass.ALERT : EventClass.STATE, value: 1, hwTime: 0, rssi: NaN, seq: 1,
  sentTime: 0, test: false, payload: Buffer.alloc(0), payloadLength: 0, retainPayload: () => Buffer.from('{"x":1}'), ...o,
})

const alert = (o: Record<string, unknown> = {}): Buffer => Buffer.from(JSON.stringify({
  v: 1, id: 'city:kiosk-002:7', seq: 7, site: 'city', post: 'kiosk-002', post_type: 'safety_house', device: 'counter-button', device_kind: 'panic-button',
  label: 'Counter', location: 'front', kind: 'panic', value: 1, rssi: null, hw_time: NOW - 5, sent_time: NOW - 3, test: false, ...o,
}))

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('own alarms go to the station and every linked peer; nothing is queued for a peer that is down', async (t) => {
  const { g, station, peers } = rig()
  const payload = Buffer.from('{"x":1}')
  g.onEvent(ev(Kind.PANIC, { retainPayload: () => payload }))
  t.same(peers[0].sent, [`${TOPIC} {"x":1}`], 'a peer gets its copy at once')
  t.same(station.sent, [], 'the station copy waits for the alert itself (issue 13 §1)')
  g.alertPublished(payload)
  t.same(station.sent, [`${TOPIC} {"x":1}`], 'and follows it as soon as the uplink has published it')
  await nextTurn()
  t.equal(station.sent.length, 1, 'once')
  t.same(peers[1].sent, [])
  t.same(g.counters, { sent: 1, peerSkipped: 1, relayed: 0, repeats: 0, echoes: 0, refused: 0, stale: 0 })
  t.same(g.peerStates(), [{ post: 'kiosk-002', state: 'connected' }, { post: 'kiosk-003', state: 'disconnected' }])
})

t.test('trouble, telemetry and walk-test alerts stay at the post; the station path is skipped while down', async (t) => {
  const { g, station, peers } = rig({ stationUp: false, peersUp: [true] })
  g.onEvent(ev(Kind.WIRE_CUT))
  g.onEvent(ev(Kind.BATTERY))
  g.onEvent(ev(Kind.PANIC, { test: true }))
  t.same(peers[0].sent, [])
  g.onEvent(ev(Kind.WHISTLE))
  await nextTurn()
  t.same(station.sent, [], 'not handed to the uplink queue while the station is down: it would arrive stale')
  t.equal(peers[0].sent.length, 1)
})

t.test('a neighbour alert is relayed once, marked with origin_post, whichever path brings it first', async (t) => {
  const { g, relayed } = rig()
  g.receive(alert(), 'peer')
  g.receive(alert(), 'station')
  t.equal(relayed.length, 1)
  t.match(relayed[0], { id: 'city:kiosk-002:7', post: 'kiosk-002', device: 'counter-button', kind: 'panic' })
  t.equal(JSON.parse(relayed[0].payload.toString()).origin_post, 'kiosk-002')
  t.equal(g.counters.repeats, 1)
})

t.test('refused: malformed, other site, relayed copies, walk tests; ignored: own echo; stale: old or skewed clocks', async (t) => {
  const { g, clock, relayed } = rig()
  g.receive(Buffer.from('not json'), 'peer')
  g.receive(Buffer.from('{"v":1}'), 'peer')
  g.receive(alert({ site: 'other' }), 'station')
  g.receive(alert({ origin_post: 'kiosk-002' }), 'peer')
  g.receive(alert({ test: true }), 'peer')
  t.equal(g.counters.refused, 5)
  g.receive(alert({ post: 'kiosk-001', id: 'city:kiosk-001:1' }), 'station')
  t.equal(g.counters.echoes, 1)
  g.receive(alert({ id: 'city:kiosk-002:8', sent_time: NOW - 61_000 }), 'peer')
  g.receive(alert({ id: 'city:kiosk-002:9', sent_time: NOW + 61_000 }), 'peer')
  t.equal(g.counters.stale, 2)
  clock.advance(1000)
  g.receive(alert({ id: 'city:kiosk-002:10' }), 'peer')
  t.equal(relayed.length, 1, 'a fresh one still passes')
})

t.test('RecentIds forgets the oldest first', async (t) => {
  const r = new RecentIds(3)
  t.ok(r.add('a'))
  t.notOk(r.add('a'))
  r.add('b'); r.add('c'); r.add('d')
  t.ok(r.add('a'), 'a was evicted by d')
  t.notOk(r.add('d'))
})

t.test('the station copy follows its alert: at the uplink\'s publish, or at the end of the turn at the latest (issue 13 §1)', async (t) => {
  const { g, station } = rig({ peersUp: [] })
  const [a, b, c] = ['{"a":1}', '{"b":1}', '{"c":1}'].map((x) => Buffer.from(x))
  for (const p of [a, b, c]) g.onEvent(ev(Kind.PANIC, { retainPayload: () => p }))
  g.alertPublished(Buffer.from('{"a":1}')) // another alert's entry (same bytes, not the same copy): not ours
  t.same(station.sent, [])
  g.alertPublished(b)
  t.same(station.sent, [`${TOPIC} {"a":1}`, `${TOPIC} {"b":1}`], 'b\'s copy, and a\'s before it, in alert order')
  await nextTurn()
  t.same(station.sent, [`${TOPIC} {"a":1}`, `${TOPIC} {"b":1}`, `${TOPIC} {"c":1}`],
    'c\'s alert was not published this turn (a file outbox waits for its fdatasync): its copy went anyway')
  g.alertPublished(c)
  t.equal(station.sent.length, 3, 'not twice')
})

t.test('a copy whose turn ends with the station gone is dropped, not queued; stop() sends what waits', async (t) => {
  const { g, station } = rig({ peersUp: [] })
  g.onEvent(ev(Kind.PANIC))
  station.connected = false
  await nextTurn()
  t.same(station.sent, [], 'dropped: it would arrive stale')
  station.connected = true
  g.onEvent(ev(Kind.PANIC))
  g.stop()
  t.equal(station.sent.length, 1, 'sent at stop, while the uplink is still up')
  await nextTurn()
  t.equal(station.sent.length, 1)
})

t.test('each waiting copy goes once and in order, also when a publish re-enters; the queue empties in place', async (t) => {
  const { g, station } = rig({ peersUp: [] })
  const ps = ['{"a":1}', '{"b":1}', '{"c":1}', '{"d":1}'].map((x) => Buffer.from(x))
  for (const p of ps) g.onEvent(ev(Kind.PANIC, { retainPayload: () => p }))
  const publish = station.publish
  // The first copy's publish reports c's alert as published (as an uplink calling back synchronously would).
  let reentered = false
  station.publish = function (topic: string, p: Buffer) {
    publish.call(this, topic, p)
    if (!reentered) { reentered = true; g.alertPublished(ps[2]) }
  }
  g.alertPublished(ps[1])
  t.same(station.sent, ps.slice(0, 3).map((p) => `${TOPIC} ${p}`), 'a, b, c once each, in alert order')
  await nextTurn()
  t.same(station.sent, ps.map((p) => `${TOPIC} ${p}`), 'd at the end of the turn')
  const waiting = (g as unknown as { waiting: unknown[] }).waiting
  t.equal(waiting.length, 0, 'nothing left behind')
  // A thousand alerts over many turns: the one array is reused, never grows past a turn's alerts.
  for (let turn = 0; turn < 100; turn++) {
    for (let i = 0; i < 10; i++) g.onEvent(ev(Kind.PANIC))
    t.equal(waiting.length, 10)
    await nextTurn()
  }
  t.equal(waiting.length, 0)
  t.equal(station.sent.length, 4 + 1000)
})
