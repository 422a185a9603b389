/**
 * An alert storm against the real lamp-box stack (issue 13 §1): LampSink ->
 * HwModbusLampBox (modbus-serial + serialport) -> PTY -> Modbus slave. The lamp
 * already showing `alarm`, confirmed by the controller, is not written again
 * for every alert; a controller that reset or was set by someone else in the
 * middle of the storm is written again.
 */
import t from 'tap'
import { EventClass, Kind } from '../../../protocols/event-kinds.js'
import { HR_PATTERN, PATTERN_CODE } from '../../../protocols/lamp-box/register-map.js'
import { LampSink } from '../../../gateway/sinks/lamp-sink.js'
import type { CoreEvent } from '../../../gateway/core/event-core.js'
import { lampBoxRig, type LampBoxRig } from '../../harness/lamp-box-rig.js'

const panic: CoreEvent = {
  device: 1, kind: Kind.PANIC, cls: EventClass.ALERT, value: 1, hwTime: 0, rssi: NaN, seq: 1,
  sentTime: 0, test: false, payload: Buffer.alloc(0), payloadLength: 0, retainPayload: () => Buffer.alloc(0),
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Write { pattern: number; at: number }

async function onlineRig(t: { teardown(fn: () => unknown): void }, over = {}): Promise<{ rig: LampBoxRig; sink: LampSink; writes: Write[] }> {
  const rig = await lampBoxRig(over)
  t.teardown(() => rig.close())
  const writes: Write[] = []
  rig.slave.onPatternWrite = (pattern, at) => { writes.push({ pattern, at }) }
  await rig.driver.start(rig.abort.signal)
  await rig.sink.waitFor('online', () => rig.sink.lastLink?.status === 'online')
  await rig.sink.waitFor('the write at open', () => writes.length >= 1)
  return { rig, sink: new LampSink(rig.driver), writes }
}

const polls = (rig: LampBoxRig): number => rig.slave.requests.filter((r) => r.fc === 4).length
const patternWrites = (rig: LampBoxRig): number => rig.slave.requests.filter((r) => r.fc === 16 && r.addr === HR_PATTERN).length

/** `n` alerts `gapMs` apart; `during(i)` runs before alert i. Returns when the last alert was raised. */
async function storm(sink: LampSink, n: number, gapMs: number, during: (i: number) => Promise<void> | void = () => {}): Promise<number> {
  let last = 0
  for (let i = 0; i < n; i++) {
    await during(i)
    sink.onEvent(panic)
    last = performance.now()
    await sleep(gapMs)
  }
  return last
}

t.test('a storm of alerts is one Modbus write; every alert still restarts the hold time', async (t) => {
  const { rig, sink, writes } = await onlineRig(t, { alarm_hold_s: 1 })
  const before = writes.length
  const pollsBefore = polls(rig)
  const N = 80
  const last = await storm(sink, N, 25) // ~2 s: longer than the 1 s hold, spanning ~20 polls
  t.ok(polls(rig) >= pollsBefore + 5, 'the controller was polled during the storm (its answers confirm the pattern)')
  t.same(writes.slice(before), [writes[before]], `${N} alerts: one write`)
  t.equal(writes[before].pattern, PATTERN_CODE.alarm, 'that write is the alarm')
  t.equal(rig.slave.model.pattern, PATTERN_CODE.alarm, 'the controller shows alarm')
  await rig.sink.waitFor('back to normal after the hold time', () => rig.slave.model.pattern === PATTERN_CODE.normal, 8000)
  const normal = writes[writes.length - 1]
  t.equal(normal.pattern, PATTERN_CODE.normal)
  t.ok(normal.at - last >= 1000, `normal written ${(normal.at - last).toFixed(0)} ms after the LAST alert, not the first (alarm_hold_s 1)`)
  t.equal(writes.length, before + 2, 'alarm once, normal once')
})

t.test('a controller that resets mid-storm is written again, then left alone again', async (t) => {
  const { rig, sink, writes } = await onlineRig(t)
  const before = writes.length
  let resetAt = 0
  await storm(sink, 60, 20, (i) => {
    if (i === 20) { rig.slave.reset(300); resetAt = performance.now() }
  })
  await rig.sink.waitFor('alarm shown again after the reset', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  t.equal(rig.slave.model.bootCount, 2, 'the controller did reset (boot 1 -> 2)')
  const after = writes.slice(before).filter((w) => w.at > resetAt)
  t.ok(after.length >= 1, `rewritten after the reset (${after.length} write(s) reached it)`)
  t.ok(after.every((w) => w.pattern === PATTERN_CODE.alarm), 'with the alarm')
  // Confirmed again (a poll after the rewrite read it back): a second storm writes nothing.
  const p = polls(rig)
  await rig.sink.waitFor('two polls after the rewrite', () => polls(rig) >= p + 2)
  const settled = patternWrites(rig)
  await storm(sink, 30, 20)
  t.equal(patternWrites(rig), settled, 'no write while the controller confirms alarm')
  t.equal(rig.slave.model.pattern, PATTERN_CODE.alarm)
})

t.test('a controller set to another pattern by someone else mid-storm is written again', async (t) => {
  const { rig, sink, writes } = await onlineRig(t)
  const before = writes.length
  await storm(sink, 40, 20, async (i) => {
    if (i !== 20) return
    // Another master (a technician's laptop on the bus) sets it to normal between two of our polls.
    rig.slave.model.pattern = PATTERN_CODE.normal
    const p = polls(rig)
    await rig.sink.waitFor('a poll that reads normal', () => polls(rig) >= p + 1)
  })
  await rig.sink.waitFor('alarm shown again', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  t.ok(rig.sink.n('lamp_pattern_rewrite') >= 1, 'counted as a rewrite')
  t.ok(writes.length - before >= 2, 'the first alert\'s write and the rewrite')
  t.ok(writes.slice(before).every((w) => w.pattern === PATTERN_CODE.alarm))
})

t.test('a write that timed out is not taken as shown: written again until answered, then left alone', async (t) => {
  const { rig, sink, writes } = await onlineRig(t)
  rig.slave.mode = 'silent'
  const before = patternWrites(rig)
  sink.onEvent(panic)
  await rig.sink.waitFor('the alarm write timed out', () => patternWrites(rig) > before && rig.sink.n('modbus_timeout') >= 1)
  const w = writes.length
  rig.slave.mode = 'normal'
  // Another alert of the storm while the driver has no answer yet: it must not count as shown.
  sink.onEvent(panic)
  await rig.sink.waitFor('written again and shown', () => writes.length > w && rig.slave.model.pattern === PATTERN_CODE.alarm)
  const p = polls(rig)
  await rig.sink.waitFor('two polls after the write', () => polls(rig) >= p + 2)
  const settled = patternWrites(rig)
  await storm(sink, 20, 20)
  t.equal(patternWrites(rig), settled, 'confirmed now: the rest of the storm writes nothing')
})
