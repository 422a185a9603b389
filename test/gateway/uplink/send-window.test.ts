/**
 * The send window (gateway/uplink/send-window.ts) with a fake clock: at most
 * `size` alerts out unacknowledged, acks and time free slots, order per
 * device kept, a fresh alarm of an idle device never waits behind others.
 */
import t from 'tap'
import { SendWindow } from '../../../gateway/uplink/send-window.js'
import { FakeClock } from '../../../devices/time/clock.js'
import type { OutboxEntry } from '../../../gateway/outbox/outbox.js'

const entry = (id: string, device: string): OutboxEntry => ({ id, device, topic: `t/${device}`, payload: Buffer.from(id), acceptedAt: 0, attempts: 0, lastSentAt: NaN })

function rig(size = 3, releaseMs = 1000) {
  const clock = new FakeClock(1_000_000)
  const sent: string[] = []
  const w = new SendWindow(size, releaseMs, clock, (e) => sent.push(e.id))
  return { clock, sent, w }
}

t.test('a backlog goes out `size` at a time, one more per ack, in order', async (t) => {
  const { sent, w } = rig()
  w.offer(['a1', 'a2', 'b1', 'a3', 'b2'].map((id) => entry(id, id[0])), false)
  t.same(sent, ['a1', 'a2', 'b1'])
  t.equal(w.backlog, 2)
  w.acked('a2')
  t.same(sent, ['a1', 'a2', 'b1', 'a3'])
  w.acked('unknown')
  t.equal(sent.length, 4, 'an ack for something not in flight frees nothing')
  w.acked('a1')
  w.acked('b1')
  t.same(sent, ['a1', 'a2', 'b1', 'a3', 'b2'])
  t.equal(w.backlog, 0)
})

t.test('a station that never acks: slots free after releaseMs, so delivery never stalls', async (t) => {
  const { clock, sent, w } = rig(2, 1000)
  w.offer(['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => entry(id, 'a')), false)
  t.same(sent, ['a1', 'a2'])
  clock.advance(999)
  t.equal(sent.length, 2)
  clock.advance(2)
  t.same(sent, ['a1', 'a2', 'a3', 'a4'])
  clock.advance(1001)
  t.same(sent, ['a1', 'a2', 'a3', 'a4', 'a5'])
})

t.test('a fresh alarm passes a full window unless its own device has alerts waiting', async (t) => {
  const { sent, w } = rig(2)
  w.offer(['a1', 'a2', 'a3'].map((id) => entry(id, 'a')), false)
  t.same(sent, ['a1', 'a2'])
  w.offer([entry('b1', 'b')], true)
  t.same(sent, ['a1', 'a2', 'b1'], 'device b had nothing waiting: out at once')
  w.offer([entry('a4', 'a')], true)
  t.same(sent, ['a1', 'a2', 'b1'], 'device a has a3 waiting: a4 queues behind it')
  w.acked('a1'); w.acked('a2'); w.acked('b1')
  t.same(sent, ['a1', 'a2', 'b1', 'a3', 'a4'], 'order per device kept')
})

t.test('reset forgets everything (the next connect replays from the outbox)', async (t) => {
  const { clock, sent, w } = rig(1)
  w.offer([entry('a1', 'a'), entry('a2', 'a')], false)
  w.reset()
  t.equal(w.backlog, 0)
  t.equal(w.inFlight, 0)
  clock.advance(5000)
  t.same(sent, ['a1'], 'no timer left behind')
  w.offer([entry('a2', 'a')], true)
  t.same(sent, ['a1', 'a2'])
})

t.test('a large backlog is compacted as it drains, without losing or reordering', async (t) => {
  const { sent, w } = rig(100)
  const ids = Array.from({ length: 20_000 }, (_, i) => `x${i}`)
  w.offer(ids.map((id) => entry(id, 'x')), false)
  for (let i = 0; i < ids.length; i++) w.acked(sent[i])
  t.same(sent, ids)
})

t.test('holds(): true while an alert waits for a slot, false once sent or after reset', async (t) => {
  const { w } = rig(1)
  w.offer([entry('a1', 'a'), entry('a2', 'a')], false)
  t.notOk(w.holds('a1'), 'sent')
  t.ok(w.holds('a2'), 'waiting')
  w.acked('a1')
  t.notOk(w.holds('a2'), 'sent in its turn')
  w.offer([entry('a3', 'a'), entry('a4', 'a')], false)
  w.reset()
  t.notOk(w.holds('a4'))
})
