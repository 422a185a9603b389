import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { DeviceTable } from '../../../gateway/core/device-table.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { MemoryOutbox } from '../../../gateway/outbox/memory-outbox.js'
import { AckWatcher } from '../../../gateway/supervision/ack-watcher.js'
import type { OutboxEntry } from '../../../gateway/outbox/outbox.js'

async function rig() {
  const clock = new FakeClock()
  const outbox = new MemoryOutbox()
  const devices = new DeviceTable([{ id: 'b', kind: 'panic-button', label: '', location: '' }], { keyedDedupeMs: 0, unkeyedDedupeMs: 0 })
  const inputs: { kind: number; value: number }[] = []
  const resent: string[] = []
  const w = new AckWatcher(outbox, clock, 30_000, { input: (_d, kind, value) => { inputs.push({ kind, value }) }, linkStatus: () => {}, count: () => {} }, devices, (e: OutboxEntry) => {
    resent.push(e.id)
    e.lastSentAt = clock.now() // what the uplink's send does
    return true
  })
  outbox.append({ id: 's:p:1', device: 'b', topic: 'x', payload: Buffer.from('{"kind":"panic"}'), acceptedAt: clock.now() })
  await new Promise((r) => setImmediate(r))
  return { clock, outbox, w, inputs, resent }
}

t.test('unacknowledged after the timeout: re-sent, escalated once', async (t) => {
  const { clock, w, inputs, resent } = await rig()
  clock.advance(29_000); w.check()
  t.same(resent, [])
  clock.advance(1_000); w.check()
  t.same(resent, ['s:p:1'])
  t.same(inputs, [{ kind: Kind.ESCALATION, value: 30 }])
  clock.advance(1_000); w.check()
  t.same(resent, ['s:p:1'], 'not again a second later: the timeout counts from the last send')
  clock.advance(30_000); w.check()
  t.same(resent, ['s:p:1', 's:p:1'])
  t.equal(inputs.length, 1, 'escalated once')
})

t.test('a replay on reconnect counts as a send: no resend right after it', async (t) => {
  const { clock, outbox, w, resent } = await rig()
  clock.advance(40_000)
  outbox.pending()[0].lastSentAt = clock.now() // the uplink replayed it on reconnect
  w.check()
  t.same(resent, [], 'no duplicate right after the replay')
})
