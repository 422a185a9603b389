import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { EventCore, type CoreEvent, type EventSink } from '../../../gateway/core/event-core.js'
import { DeviceTable, GATEWAY_DEVICE } from '../../../gateway/core/device-table.js'
import { EventClass, Kind, KIND_NAMES } from '../../../protocols/event-kinds.js'
import { EventLane } from '../../../gateway/core/event-lane.js'
import { Dedupe } from '../../../gateway/core/dedupe.js'
import { MemorySequence } from '../../../gateway/core/sequence.js'
import { AlertEncoder } from '../../../protocols/mqtt/alert-encoder.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'

interface Seen { device: number; kind: string; cls: EventClass; seq: number; value: number; test: boolean; payload: string }

/** A sink that records a copy of what it sees (the view is reused, so copy the fields). */
class RecordingSink implements EventSink {
  readonly seen: Seen[] = []
  constructor(readonly name = 'rec', private readonly hook?: (ev: CoreEvent, n: number) => void) {}
  onEvent(ev: CoreEvent): void {
    this.seen.push({ device: ev.device, kind: KIND_NAMES[ev.kind], cls: ev.cls, seq: ev.seq, value: ev.value, test: ev.test, payload: ev.payload.toString('utf8', 0, ev.payloadLength) })
    this.hook?.(ev, this.seen.length)
  }
  kinds(): string[] { return this.seen.map((s) => s.kind) }
}

const KEYED_MS = 10000
const UNKEYED_MS = 250

function makeCore(opts: { alertLaneSize?: number; stateLaneSize?: number } = {}) {
  const clock = new FakeClock()
  const devices = new DeviceTable(
    [
      { id: 'btn', kind: 'panic-button', label: 'Counter', location: 'desk' },
      { id: 'whistle-1', kind: 'ble-whistle', label: 'Whistle', location: '', dedupe_window_ms: KEYED_MS },
    ],
    { keyedDedupeMs: KEYED_MS, unkeyedDedupeMs: UNKEYED_MS },
  )
  const encoder = new AlertEncoder({ site: 'sh-huangpu', post: 'kiosk-017', postType: 'safety_house' })
  for (const e of devices.entries) encoder.internDevice({ id: e.id, kind: e.kind, label: e.label, location: e.location })
  const sinkErrors: string[] = []
  const core = new EventCore({ clock, devices, encoder, sequence: new MemorySequence(), onSinkError: (name, err) => sinkErrors.push(`${name}: ${(err as Error).message}`), ...opts })
  return { clock, devices, encoder, core, sinkErrors, btn: devices.indexOf('btn'), whistle: devices.indexOf('whistle-1') }
}

/** Let setImmediate-scheduled drains run (bounded: no open-ended waiting). */
async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

t.test('device table: gateway is index 0, ids are interned, duplicates refused', async (t) => {
  const { devices, btn, whistle } = makeCore()
  t.equal(GATEWAY_DEVICE, 0)
  t.equal(devices.get(0).id, 'gateway')
  t.equal(devices.size, 3)
  t.equal(btn, 1)
  t.equal(whistle, 2)
  t.equal(devices.indexOf('nope'), -1)
  t.equal(devices.keyedDedupeMs[whistle], KEYED_MS)
  t.equal(devices.unkeyedDedupeMs[btn], UNKEYED_MS)
  t.equal(devices.unkeyedDedupeMs[0], 0, 'the gateway\'s own reports are never deduped')
  t.throws(() => new DeviceTable([{ id: 'a', kind: 'lamp-box', label: '', location: '' }, { id: 'a', kind: 'lamp-box', label: '', location: '' }], { keyedDedupeMs: 1, unkeyedDedupeMs: 1 }), /"a" is used twice/)
  t.throws(() => new DeviceTable([{ id: 'gateway', kind: 'lamp-box', label: '', location: '' }], { keyedDedupeMs: 1, unkeyedDedupeMs: 1 }), /"gateway" is used twice/)
})

t.test('an alert reaches every sink with a seq and a schema-valid payload', async (t) => {
  const { core, clock, btn } = makeCore()
  const a = new RecordingSink('a')
  const b = new RecordingSink('b')
  core.addSink(a)
  core.addSink(b)
  const hw = clock.now() - 40
  core.input(btn, Kind.PANIC, 1, hw, NaN, -1)
  core.input(btn, Kind.TAMPER, NaN, hw, NaN, -1)
  t.equal(a.seen.length, 2, 'delivered synchronously')
  t.same(a.seen, b.seen, 'both sinks see the same events')
  t.same(a.seen.map((s) => s.seq), [1, 2])
  const r = checkPayload<Record<string, unknown>>('alert', a.seen[0].payload)
  t.ok(r.ok, r.ok ? 'valid' : r.error)
  if (r.ok) t.match(r.value, { id: 'sh-huangpu:kiosk-017:1', device: 'btn', kind: 'panic', seq: 1, value: 1, hw_time: hw, sent_time: clock.now(), test: false, label: 'Counter' })
  t.equal(core.counters.accepted, 2)
  t.equal(core.backlog, 0)
})

t.test('keyed dedupe: same key within the window dropped, a new key passes, same key after the window passes', async (t) => {
  const { core, clock, whistle } = makeCore()
  const s = new RecordingSink()
  core.addSink(s)
  const steps: Array<[number, number, number, boolean, string]> = [
    // [advance ms, kind, key, delivered?, why]
    [0, Kind.WHISTLE, 7, true, 'first press'],
    [50, Kind.WHISTLE, 7, false, 'repeat of the same packet'],
    [5000, Kind.WHISTLE, 7, false, 'still within the keyed window'],
    [0, Kind.WHISTLE, 8, true, 'new packet id: a new press at once'],
    [0, Kind.SOS, 8, true, 'same key, other kind'],
    [KEYED_MS - 5050 - 1, Kind.WHISTLE, 7, false, '1 ms before the window ends'],
    [1, Kind.WHISTLE, 7, true, 'window over: counts again'],
  ]
  let want = 0
  for (const [ms, kind, key, delivered, why] of steps) {
    clock.advance(ms)
    core.input(whistle, kind, NaN, clock.now(), -60, key)
    if (delivered) want++
    t.equal(s.seen.length, want, why)
  }
  t.equal(core.counters.duplicates, 3)
  t.same(s.seen.map((e) => e.seq), [1, 2, 3, 4], 'duplicates take no sequence number')
})

t.test('unkeyed dedupe: same kind within the short window dropped', async (t) => {
  const { core, clock, btn, whistle } = makeCore()
  const s = new RecordingSink()
  core.addSink(s)
  core.input(btn, Kind.PANIC, 1, clock.now(), NaN, -1)
  clock.advance(UNKEYED_MS - 1)
  core.input(btn, Kind.PANIC, 1, clock.now(), NaN, -1)
  t.equal(s.seen.length, 1, 'within the window')
  core.input(btn, Kind.WIRE_CUT, 1, clock.now(), NaN, -1)
  core.input(whistle, Kind.PANIC, 1, clock.now(), NaN, -1)
  t.equal(s.seen.length, 3, 'another kind, another device: not duplicates')
  clock.advance(1)
  core.input(btn, Kind.PANIC, 1, clock.now(), NaN, -1)
  t.equal(s.seen.length, 4, 'window over')
  for (let i = 0; i < 3; i++) core.input(GATEWAY_DEVICE, Kind.GATEWAY_TROUBLE, i, clock.now(), NaN, -1)
  t.equal(s.seen.length, 7, 'the gateway itself has no dedupe window')
  t.equal(core.counters.duplicates, 1)
})

t.test('state events are never deduped', async (t) => {
  const { core, btn } = makeCore()
  const s = new RecordingSink()
  core.addSink(s)
  for (let i = 0; i < 5; i++) core.input(btn, Kind.HEARTBEAT, NaN, 0, NaN, 1)
  t.same(s.kinds(), Array(5).fill('heartbeat'))
  t.ok(s.seen.every((e) => e.cls === EventClass.STATE && e.seq === 0 && e.payload === ''), 'no seq, no payload')
  t.equal(core.counters.duplicates, 0)
})

t.test('priority: an alert injected during dispatch goes before a state event injected earlier', async (t) => {
  const { core, btn, whistle } = makeCore()
  let core2: EventCore | null = core
  const order = new RecordingSink('order', (ev, n) => {
    if (n === 1 && core2) {
      core2.input(btn, Kind.BATTERY, 80, 0, NaN, -1) // state first...
      core2.input(whistle, Kind.SOS, NaN, 0, -70, 3) // ...then an alert
      core2 = null
    }
  })
  core.addSink(order)
  core.input(btn, Kind.PANIC, 1, 0, NaN, -1)
  t.same(order.kinds(), ['panic', 'sos', 'battery'])
})

t.test('state budget: a big state backlog yields to the event loop, every event still arrives, alerts cut in', async (t) => {
  const { core, btn, whistle } = makeCore()
  const N = 1000
  let flood = true
  const s = new RecordingSink('rec', (ev) => {
    if (flood) {
      flood = false
      for (let i = 0; i < N; i++) core.input(btn, Kind.HEARTBEAT, i, 0, NaN, -1)
    }
  })
  core.addSink(s)
  core.input(btn, Kind.HEARTBEAT, -1, 0, NaN, -1)
  const firstTurn = s.seen.length
  t.ok(firstTurn > 1 && firstTurn < N + 1, `yielded after ${firstTurn - 1} of ${N}`)
  t.ok(core.backlog > 0)
  core.input(whistle, Kind.WHISTLE, NaN, 0, -50, 1)
  t.equal(s.seen[firstTurn].kind, 'whistle', 'a new alert goes before the waiting state events')
  await turns(20)
  t.equal(core.backlog, 0)
  const values = s.seen.filter((e) => e.kind === 'heartbeat').map((e) => e.value)
  t.same(values, [-1, ...Array.from({ length: N }, (_, i) => i)], 'all state events, in order')
})

t.test('a throwing sink is isolated', async (t) => {
  const { core, btn, sinkErrors } = makeCore()
  const before = new RecordingSink('before')
  const after = new RecordingSink('after')
  core.addSink(before)
  core.addSink({ name: 'bad', onEvent: () => { throw new Error('boom') } })
  core.addSink(after)
  core.input(btn, Kind.PANIC, 1, 0, NaN, -1)
  core.input(btn, Kind.HEARTBEAT, 1, 0, NaN, -1)
  t.equal(before.seen.length, 2)
  t.equal(after.seen.length, 2, 'the sink after the failing one still gets every event')
  t.equal(core.counters.sinkErrors, 2)
  t.same(sinkErrors, ['bad: boom', 'bad: boom'])
  t.equal(core.backlog, 0)
})

t.test('retainPayload: one copy per event shared by all sinks, a new copy for the next event', async (t) => {
  const { core, btn } = makeCore()
  const copies: Buffer[][] = []
  const grab = (name: string): EventSink => ({ name, onEvent: (ev) => { const c = ev.retainPayload(); (copies[ev.seq] ??= []).push(c); t.equal(ev.retainPayload(), c, `${name}: same copy twice`) } })
  core.addSink(grab('a'))
  core.addSink(grab('b'))
  core.input(btn, Kind.PANIC, 1, 0, NaN, -1)
  core.input(btn, Kind.TAMPER, 1, 0, NaN, -1)
  t.equal(copies[1][0], copies[1][1], 'same Buffer for both sinks of event 1')
  t.not(copies[1][0], copies[2][0], 'event 2 has its own copy')
  t.equal(JSON.parse(copies[1][0].toString()).kind, 'panic', 'the copy of event 1 is intact after event 2')
  t.equal(JSON.parse(copies[2][0].toString()).kind, 'tamper')
})

t.test('bad device index or kind is counted, not thrown', async (t) => {
  const { core, devices } = makeCore()
  const s = new RecordingSink()
  core.addSink(s)
  const bad: Array<[number, number]> = [[-1, Kind.PANIC], [devices.size, Kind.PANIC], [NaN, Kind.PANIC], [1, 64], [1, -1], [1, NaN], [1.5, Kind.PANIC], [1, 0.5]]
  for (const [d, k] of bad) t.doesNotThrow(() => core.input(d, k, 0, 0, NaN, -1), `device ${d} kind ${k}`)
  t.equal(s.seen.length, 0)
  t.equal(core.counters.badInputs, bad.length)
  t.equal(core.counters.accepted, 0)
})

t.test('lane overflow is counted', async (t) => {
  const { core, btn, whistle } = makeCore({ alertLaneSize: 2 })
  let once = true
  const s = new RecordingSink('rec', () => {
    if (!once) return
    once = false
    for (let i = 0; i < 5; i++) core.input(whistle, Kind.WHISTLE, i, 0, NaN, 100 + i)
  })
  core.addSink(s)
  core.input(btn, Kind.PANIC, 1, 0, NaN, -1)
  t.equal(core.counters.overflows, 3, 'two fit in the lane, three overflow')
  t.equal(s.seen.length, 3)
  t.equal(core.counters.accepted, 3)
})

t.test('walk-test mode marks alerts test; the test kind is always test', async (t) => {
  const { core, btn } = makeCore()
  const s = new RecordingSink()
  core.addSink(s)
  core.input(btn, Kind.PANIC, 1, 0, NaN, -1)
  core.input(btn, Kind.TEST, 1, 0, NaN, -1)
  core.testMode = true
  core.input(btn, Kind.DURESS, 1, 0, NaN, -1)
  core.testMode = false
  core.input(btn, Kind.SILENT_HOLDUP, 1, 0, NaN, -1)
  t.same(s.seen.map((e) => [e.kind, e.test, JSON.parse(e.payload).test]), [['panic', false, false], ['test', true, true], ['duress', true, true], ['silent_holdup', false, false]])
})

t.test('EventLane and Dedupe on their own', async (t) => {
  t.throws(() => new EventLane(3), RangeError)
  t.throws(() => new EventLane(1), RangeError)
  const lane = new EventLane(4)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 4; i++) t.ok(lane.push(i, i, i, i, i))
    t.notOk(lane.push(9, 9, 9, 9, 9), 'full')
    for (let i = 0; i < 4; i++) { t.equal(lane.value[lane.peek()], i); lane.shift() }
    t.equal(lane.size, 0)
  }
  t.equal(lane.overflows, 3)

  // Dedupe keeps 8 keys per device: an interleaved repeat (A, B, A) within the window is still caught.
  const d = new Dedupe(1, Float64Array.of(1000), Float64Array.of(100))
  t.notOk(d.isDuplicate(0, 3, 1, 0))
  t.notOk(d.isDuplicate(0, 3, 2, 0))
  t.ok(d.isDuplicate(0, 3, 1, 10))
  for (let k = 10; k < 18; k++) d.isDuplicate(0, 3, k, 20)
  t.notOk(d.isDuplicate(0, 3, 1, 30), 'pushed out of the history by 8 newer keys')
  const off = new Dedupe(1, Float64Array.of(0), Float64Array.of(0))
  t.notOk(off.isDuplicate(0, 1, 5, 0))
  t.notOk(off.isDuplicate(0, 1, 5, 0), 'window 0 = no dedupe')
})
