/**
 * Socket-free units of the station's ingest: the live ring's catch-up, the
 * topic parser, and the store writer's outage behaviour against a store that
 * fails on demand (held rows, coalescing, the memory bound, order kept).
 */
import t from 'tap'
import { pino } from 'pino'
import { LiveFeed } from '../../station/live/live-feed.js'
import { parseStationTopic } from '../../station/ingest/topic-parse.js'
import { StoreWriter } from '../../station/ingest/store-writer.js'
import { Counters } from '../../station/ingest/counters.js'
import type { StationDb } from '../../station/store/station-db.js'
import { sampleAlert } from './store/conformance.js'

t.test('live ring: since() catches up, null when too far behind, a throwing subscriber is isolated', async (t) => {
  const live = new LiveFeed(3)
  const got: number[] = []
  live.subscribe(() => { throw new Error('bad listener') })
  live.subscribe((s) => got.push(s))
  for (let i = 0; i < 5; i++) live.publish({ type: 'post', site: 's', post: `p${i}` })
  t.same(got, [1, 2, 3, 4, 5], 'the second subscriber still gets every event')
  t.equal(live.subscriberErrors, 5)
  t.equal(live.lastSeq, 5)
  t.same(live.since(5), [])
  t.same(live.since(3)?.map((x) => x.seq), [4, 5])
  t.same(live.since(2)?.map((x) => x.seq), [3, 4, 5])
  t.equal(live.since(1), null, 'older than the ring: reload')
})

t.test('topic parser', async (t) => {
  t.same(parseStationTopic('safehouse/v1/s1/p1/alert/btn'), { site: 's1', post: 'p1', what: 'alert', device: 'btn' })
  t.same(parseStationTopic('safehouse/v1/s1/p1/device/d-1/state'), { site: 's1', post: 'p1', what: 'device-state', device: 'd-1' })
  t.same(parseStationTopic('safehouse/v1/s1/p1/walk-test/report'), { site: 's1', post: 'p1', what: 'walk-test-report', device: null })
  for (const bad of ['safehouse/v1/s1/group/alert/x', 'safehouse/v1/S1/p1/state', 'safehouse/v2/s1/p1/state', 'safehouse/v1/s1/p1/alert', 'safehouse/v1/s1/p1/ack', 'x', '']) {
    t.equal(parseStationTopic(bad), null, bad)
  }
})

/** A store whose writes fail while `down` is set; records what was written, in order. */
function flakyDb(): { db: StationDb; written: string[]; setDown: (d: boolean) => void } {
  let down = false
  const written: string[] = []
  const w = (what: string) => async () => { if (down) throw new Error('connection refused'); written.push(what) }
  const db = {
    ping: async () => { if (down) throw new Error('connection refused') },
    insertAlert: async (a: { id: string }) => { if (down) throw new Error('connection refused'); written.push(`alert ${a.id}`); return 'stored' as const },
    insertAlerts: async (list: Array<{ id: string }>) => { if (down) throw new Error('connection refused'); for (const a of list) written.push(`alert ${a.id}`); return list.map(() => 'stored' as const) },
    setStatus: async (_s: string, p: string, online: boolean) => w(`status ${p} ${online}`)(),
    setDeviceState: async (_s: string, p: string, d: string, st: Record<string, unknown>) => w(`device ${p}/${d} ${st.battery}`)(),
    addRejected: async (r: { reason: string }) => { if (down) throw new Error('connection refused'); written.push(`rejected ${r.reason}`); return { id: 1, at: 0, topic: '', reason: r.reason, excerpt: '' } },
  } as unknown as StationDb
  return { db, written, setDown: (d) => { down = d } }
}

t.test('store writer: outage holds rows in order, coalesces latest values, writes them after', async (t) => {
  const { db, written, setDown } = flakyDb()
  const live = new LiveFeed()
  const events: string[] = []
  live.subscribe((_s, e) => events.push(e.type === 'alert' ? `alert ${e.alert.id}` : e.type === 'db' ? `db ${e.ok}` : e.type))
  const counters = new Counters()
  const w = new StoreWriter(db, live, counters, { log: pino({ level: 'silent' }), retryMs: 20 })
  setDown(true)
  w.submit({ op: 'status', site: 's', post: 'p1', online: true, since: 1 })
  await new Promise((r) => setTimeout(r, 10))
  t.equal(w.dbOk, false, 'a failed write flags the database down')
  w.submit({ op: 'alert', site: 's', post: 'p1', alert: sampleAlert(1) })
  for (const battery of [90, 80, 70]) w.submit({ op: 'device', site: 's', post: 'p1', device: 'd', state: { battery } })
  w.submit({ op: 'rejected', row: { at: 1, topic: 't', reason: 'schema', excerpt: '' } })
  t.equal(w.held, 4, 'three device states coalesced into one held row')
  t.ok(events.includes('alert s1:p1:1'), 'the held alert is shown live at once')
  setDown(false)
  t.ok(await w.flush(5000))
  t.same(written, ['status p1 true', 'alert s1:p1:1', 'device p1/d 70', 'rejected schema'], 'written in arrival order, latest device value')
  t.equal(events.filter((e) => e === 'alert s1:p1:1').length, 1, 'shown once, not again when stored')
  t.same(events.filter((e) => e.startsWith('db')), ['db false', 'db true'])
  t.equal(counters.get('coalesced'), 2)
  w.stop()
})

t.test('store writer: the memory bound sheds latest-value rows before alerts, and counts', async (t) => {
  const { db, setDown } = flakyDb()
  const counters = new Counters()
  const w = new StoreWriter(db, new LiveFeed(), counters, { log: pino({ level: 'silent' }), retryMs: 10_000, maxHeld: 3 })
  setDown(true)
  w.submit({ op: 'alert', site: 's', post: 'p1', alert: sampleAlert(1) })
  await new Promise((r) => setTimeout(r, 10))
  w.submit({ op: 'status', site: 's', post: 'p1', online: true, since: 1 })
  w.submit({ op: 'alert', site: 's', post: 'p1', alert: sampleAlert(2) })
  w.submit({ op: 'alert', site: 's', post: 'p1', alert: sampleAlert(3) })
  t.equal(w.held, 3)
  t.equal(counters.get('held_rows_dropped'), 1, 'the status went first')
  w.submit({ op: 'alert', site: 's', post: 'p1', alert: sampleAlert(4) })
  t.equal(counters.get('held_alerts_dropped'), 1, 'then the oldest alert, counted (the gateway resends it)')
  w.stop()
})
