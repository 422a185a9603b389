/**
 * One conformance suite for every StationDb engine (DESIGN §3, like mqtt.js's
 * store tests): sqlite.test.ts and postgres.test.ts run exactly this.
 */
import type { Test } from 'tap'
import type { StationDb, AlertInsert } from '../../../station/store/station-db.js'
import { classify } from '../../../station/store/alert-class.js'

export type MakeStore = (now: () => number) => Promise<{ store: StationDb; reopen: () => Promise<StationDb> }>

export function sampleAlert(seq: number, over: Partial<AlertInsert> = {}): AlertInsert {
  const kind = over.kind ?? 'panic'
  const payload = JSON.stringify({ v: 1, id: `s1:p1:${seq}`, site: 's1', post: 'p1', device: 'btn', device_kind: 'panic-button', kind, seq, hw_time: 1000 + seq, sent_time: 1001 + seq, test: false })
  return {
    id: `s1:p1:${seq}`, site: 's1', post: 'p1', device: 'btn', deviceKind: 'panic-button', label: 'Counter', location: null, kind,
    ...classify(kind, false), value: 1, rssi: null, test: false, originPost: null, hwTime: 1000 + seq, sentTime: 1001 + seq, receivedAt: 2000 + seq, payload, ...over,
  }
}

export function conformance(t: Test, make: MakeStore): void {
  let clock = 1_800_000_000_000
  const now = () => clock

  t.test('alerts are idempotent by id; a reused id with other content is a conflict', async (t) => {
    const { store, reopen } = await make(now)
    const a = sampleAlert(1)
    t.equal(await store.insertAlert(a), 'stored')
    t.equal(await store.insertAlert(a), 'duplicate', 'a redelivery (same bytes)')
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(a.payload)).reverse()))
    t.equal(await store.insertAlert({ ...a, payload: reordered }), 'duplicate', 'same JSON, other key order')
    t.equal(await store.insertAlert(sampleAlert(1, { kind: 'whistle', payload: a.payload.replace('panic', 'whistle') })), 'conflict')
    // A second instance on the same database: still one row.
    const second = await reopen()
    t.equal(await second.insertAlert(a), 'duplicate', 'a second instance makes no second row')
    t.equal((await store.alerts({})).length, 1)
    t.equal((await store.alert(a.id))?.kind, 'panic', 'the first content stays')
    t.equal(await store.alert('nope'), null)
    await second.close()
    await store.close()
  })

  t.test('a burst in one statement: stored, duplicate, conflict, and an id twice in the burst', async (t) => {
    const { store } = await make(now)
    t.equal(await store.insertAlert(sampleAlert(1)), 'stored')
    const other = sampleAlert(2, { kind: 'whistle', payload: sampleAlert(2).payload.replace('panic', 'whistle') })
    const r = await store.insertAlerts([sampleAlert(1), sampleAlert(2), sampleAlert(3), sampleAlert(1, { payload: sampleAlert(1).payload.replace('panic', 'duress') }), other])
    t.same(r, ['duplicate', 'stored', 'stored', 'conflict', 'conflict'])
    t.same((await store.alerts({})).map((a) => [a.id, a.kind]).sort(), [['s1:p1:1', 'panic'], ['s1:p1:2', 'panic'], ['s1:p1:3', 'panic']])
    t.same(await store.insertAlerts([]), [])
    await store.close()
  })

  t.test('queue: unacknowledged first, by priority, then age; ack once', async (t) => {
    const { store } = await make(now)
    await store.insertAlert(sampleAlert(1, { kind: 'low_battery', ...classify('low_battery', false), receivedAt: 10 }))
    await store.insertAlert(sampleAlert(2, { kind: 'panic', receivedAt: 30 }))
    await store.insertAlert(sampleAlert(3, { kind: 'whistle', ...classify('whistle', false), receivedAt: 20 }))
    await store.insertAlert(sampleAlert(4, { kind: 'panic', receivedAt: 40 }))
    t.same((await store.queue(10)).map((a) => a.id), ['s1:p1:2', 's1:p1:4', 's1:p1:3', 's1:p1:1'])
    t.equal(await store.acknowledge('s1:p1:2', 'op-7', 5000, 'called patrol'), 'acked')
    t.equal(await store.acknowledge('s1:p1:2', 'op-8', 6000, null), 'already', 'the first ack stands')
    t.equal(await store.acknowledge('s1:p1:99', 'op-8', 6000, null), 'unknown')
    const q = await store.queue(10)
    t.same(q.map((a) => a.id), ['s1:p1:4', 's1:p1:3', 's1:p1:1', 's1:p1:2'], 'the acked alarm sinks below open trouble')
    t.match(q[3], { ackBy: 'op-7', ackAt: 5000, ackNote: 'called patrol', cls: 'alarm', priority: 0, test: false, hwTime: 1002 })
    t.equal((await store.alerts({ unackedOnly: true })).length, 3)
    t.same((await store.alerts({ kind: 'whistle' })).map((a) => a.id), ['s1:p1:3'])
    t.same((await store.alerts({ from: 20, to: 31 })).map((a) => a.id), ['s1:p1:2', 's1:p1:3'])
    await store.close()
  })

  t.test('posts and devices from retained payloads', async (t) => {
    const { store } = await make(now)
    t.same(await store.knownPosts(), [])
    await store.setStatus('s1', 'p1', true, clock - 5000, clock)
    await store.setGatewayState('s1', 'p1', { v: 1, site: 's1', post: 'p1', post_type: 'lookout', group: 'unit-1', outbox: { depth: 3 } }, clock)
    await store.setDeviceState('s1', 'p1', 'w1', { v: 1, device: 'w1', device_kind: 'ble-whistle', status: 'online', battery: 12, faults: [], label: 'Whistle' }, clock)
    await store.setDeviceState('s1', 'p1', 'b1', { v: 1, device: 'b1', device_kind: 'panic-button', status: 'missing', faults: ['tamper'] }, clock)
    await store.setDeviceState('s1', 'p1', 'b1', { v: 1, device: 'b1', device_kind: 'panic-button', status: 'missing', faults: ['tamper', 'mains_lost'] }, clock)
    await store.setTestReport('s1', 'p1', 60, 2, clock)
    await store.setWalkTestReport('s1', 'p1', { v: 1, result: 'pass' }, clock)
    await store.setStatus('s1', 'p2', false, null, clock)
    t.same(await store.knownPosts(), [{ site: 's1', post: 'p1' }, { site: 's1', post: 'p2' }].sort((a, b) => a.post.localeCompare(b.post)))
    const p = await store.post('s1', 'p1')
    t.match(p, { online: true, statusSince: clock - 5000, postType: 'lookout', group: 'unit-1', devicesMissing: 1, lowBattery: 1, tamper: 1, mainsLost: 1, outboxDepth: 2, testIntervalS: 60, testOverdue: false, walkTestReport: { result: 'pass' } })
    clock += 91_000 // interval 60 + grace 30 passed
    t.equal((await store.post('s1', 'p1'))?.testOverdue, true, 'a report overdue beyond interval + grace')
    t.same((await store.posts({ group: 'unit-1' })).map((x) => x.post), ['p1'])
    t.same((await store.posts({ site: 's1' })).map((x) => [x.post, x.online]), [['p1', true], ['p2', false]])
    const d = await store.devices('s1', 'p1')
    t.same(d.map((x) => x.device), ['b1', 'w1'])
    t.same(d[0].state.faults, ['tamper', 'mains_lost'], 'latest value replaces the device row')
    t.equal(d[1].label, 'Whistle')
    t.equal(await store.post('s1', 'nope'), null)
    await store.close()
  })

  t.test('fleet summary for /metrics: posts with their figures, unacknowledged alerts by class', async (t) => {
    const { store } = await make(now)
    t.same(await store.fleet(), { posts: [], unacked: { alarm: 0, trouble: 0, info: 0 }, oldestUnackedAt: null })
    await store.setStatus('s1', 'p1', true, clock, clock)
    await store.setDeviceState('s1', 'p1', 'w1', { v: 1, device: 'w1', device_kind: 'ble-whistle', status: 'online', battery: 12, faults: [] }, clock)
    await store.setDeviceState('s1', 'p1', 'b1', { v: 1, device: 'b1', device_kind: 'panic-button', status: 'missing', faults: [] }, clock)
    await store.setTestReport('s1', 'p1', 60, 0, clock - 91_000)
    await store.setStatus('s1', 'p2', false, null, clock)
    await store.insertAlert(sampleAlert(1, { receivedAt: 500 }))
    await store.insertAlert(sampleAlert(2, { receivedAt: 300 }))
    await store.insertAlert(sampleAlert(3, { kind: 'tamper', ...classify('tamper', false), receivedAt: 400 }))
    await store.insertAlert(sampleAlert(4, { kind: 'check_in', ...classify('check_in', false), receivedAt: 100 }))
    t.equal(await store.acknowledge('s1:p1:4', 'op', 600, null), 'acked')
    t.same(await store.fleet(), {
      posts: [
        { site: 's1', post: 'p1', online: true, testOverdue: true, devicesMissing: 1, lowBattery: 1 },
        { site: 's1', post: 'p2', online: false, testOverdue: false, devicesMissing: 0, lowBattery: 0 },
      ],
      unacked: { alarm: 2, trouble: 1, info: 0 },
      oldestUnackedAt: 300,
    }, 'the acked info alert is not counted; the oldest open one is')
    await store.close()
  })

  t.test('device states in one statement: latest value per device', async (t) => {
    const { store } = await make(now)
    await store.setStatus('s1', 'p1', true, 1, clock)
    await store.setDeviceStates([
      { site: 's1', post: 'p1', device: 'a', state: { v: 1, device: 'a', status: 'online', battery: 50, faults: [] } },
      { site: 's1', post: 'p1', device: 'b', state: { v: 1, device: 'b', status: 'missing', faults: [] } },
      { site: 's1', post: 'p1', device: 'a', state: { v: 1, device: 'a', status: 'online', battery: 10, faults: ['tamper'] } },
    ], clock)
    const d = await store.devices('s1', 'p1')
    t.same(d.map((x) => [x.device, x.state.battery ?? null]), [['a', 10], ['b', null]])
    t.match(await store.post('s1', 'p1'), { devicesMissing: 1, lowBattery: 1, tamper: 1 })
    await store.setDeviceStates([], clock)
    await store.close()
  })

  t.test('rejected rows, audit, operators, sessions', async (t) => {
    const { store } = await make(now)
    const r = await store.addRejected({ at: 1, topic: 'safehouse/v1/s1/p1/alert/x', reason: 'schema', excerpt: '{"v":2}' })
    await store.addRejected({ at: 2, topic: 't2', reason: 'unknown post', excerpt: '<script>' })
    t.ok(r.id > 0)
    t.same((await store.rejected(10)).map((x) => x.reason), ['unknown post', 'schema'], 'newest first')
    t.equal(await store.rejectedCount(), 2)
    await store.addAudit({ at: 5, who: 'op-1', action: 'ack', target: 's1:p1:1', detail: 'note', from: '10.0.0.9' })
    t.match(await store.audit(5), [{ who: 'op-1', action: 'ack', target: 's1:p1:1', from: '10.0.0.9' }])
    await store.addOperator('wang', 'operator', 'correct horse', 'zh-CN')
    t.same(await store.operator('wang'), { name: 'wang', role: 'operator', lang: 'zh-CN' })
    t.same(await store.verifyOperator('wang', 'correct horse'), { name: 'wang', role: 'operator', lang: 'zh-CN' })
    t.equal(await store.verifyOperator('wang', 'wrong'), null)
    t.equal(await store.verifyOperator('nobody', 'x'), null)
    await store.addOperator('wang', 'supervisor', 'new pass', null)
    t.equal(await store.verifyOperator('wang', 'correct horse'), null, 'password replaced')
    t.same(await store.operators(), [{ name: 'wang', role: 'supervisor', lang: null }])
    await store.createSession('tok-1', 'wang', clock + 1000)
    t.same(await store.session('tok-1'), { name: 'wang', expiresAt: clock + 1000 })
    clock += 1000
    t.equal(await store.session('tok-1'), null, 'an expired session is gone')
    await store.createSession('tok-2', 'wang', clock + 1000)
    await store.deleteSession('tok-2')
    t.equal(await store.session('tok-2'), null)
    await store.close()
  })

  t.test('roll calls with entries', async (t) => {
    const { store } = await make(now)
    await store.createRollCall({ id: 'rc-1', startedAt: 1000, deadline: 61_000, by: 'wang', scope: { site: 's1', group: null }, entries: [
      { site: 's1', post: 'p1', state: 'pending', answeredBy: null, answeredAt: null, delayMs: null },
      { site: 's1', post: 'p2', state: 'offline', answeredBy: null, answeredAt: null, delayMs: null },
    ] })
    await store.setRollCallEntry('rc-1', 's1', 'p1', 'answered', 'check-in-button', 4500)
    const rc = await store.rollCall('rc-1')
    t.match(rc, { id: 'rc-1', by: 'wang', deadline: 61_000, scope: { site: 's1', group: null } })
    t.same(rc?.entries.map((e) => [e.post, e.state, e.answeredBy, e.delayMs]), [['p1', 'answered', 'check-in-button', 3500], ['p2', 'offline', null, null]])
    t.same((await store.rollCalls(5)).map((r) => r.id), ['rc-1'])
    t.equal(await store.rollCall('nope'), null)
    await store.close()
  })

  t.test('hostile text is stored as data', async (t) => {
    const { store } = await make(now)
    const evil = `'); DROP TABLE alerts; -- ? $1 \u0000x`
    await store.addRejected({ at: 1, topic: evil, reason: evil, excerpt: evil })
    t.equal((await store.rejected(1))[0].reason, evil.replace('\u0000', '\ufffd'), 'NUL (which PostgreSQL TEXT refuses) becomes U+FFFD on both engines')
    t.equal(await store.insertAlert(sampleAlert(7, { label: evil })), 'stored')
    t.equal((await store.alert('s1:p1:7'))?.label, evil.replace('\u0000', '\ufffd'))
    await store.close()
  })
}
