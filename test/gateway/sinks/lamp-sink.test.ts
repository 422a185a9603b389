import t from 'tap'
import { LampSink } from '../../../gateway/sinks/lamp-sink.js'
import { EventClass, Kind } from '../../../protocols/event-kinds.js'
import type { CoreEvent } from '../../../gateway/core/event-core.js'
import type { LampActuator, LampPattern } from '../../../devices/device-driver.js'

const ev = (kind: number, o: Partial<CoreEvent> = {}): CoreEvent => ({
  device: 1, kind, cls: kind < 32 ? EventClass.ALERT : EventClass.STATE, value: 1, hwTime: 0, rssi: NaN, seq: 1,
  sentTime: 0, test: false, payload: Buffer.alloc(0), payloadLength: 0, retainPayload: () => Buffer.alloc(0), ...o,
})

/** A lamp that records every pattern it is given and shows the last one. */
function recordingLamp(set: LampPattern[]): LampActuator {
  const lamp = { pattern: 'normal' as LampPattern, setPattern(p: LampPattern) { set.push(p); lamp.pattern = p } }
  return lamp
}

t.test('which events drive which lamp pattern', async (t) => {
  const set: LampPattern[] = []
  const sink = new LampSink(recordingLamp(set))
  sink.onEvent(ev(Kind.PANIC))
  sink.onEvent(ev(Kind.SOS, { test: true }))
  sink.onEvent(ev(Kind.SILENT_HOLDUP))
  sink.onEvent(ev(Kind.DURESS))
  sink.onEvent(ev(Kind.WIRE_CUT))
  sink.onEvent(ev(Kind.BATTERY))
  t.equal(sink.acknowledged('panic'), true)
  t.same(set, ['alarm', 'test', 'acknowledged'],
    'own alarm, a walk test, the ack; silent hold-up, duress, trouble and telemetry never light the lamp')
})

t.test('a neighbour\'s alarm never covers this post\'s own, and silent kinds stay dark', async (t) => {
  const set: LampPattern[] = []
  const sink = new LampSink(recordingLamp(set))
  sink.neighbourAlarm(Kind.DURESS)
  sink.neighbourAlarm(Kind.WIRE_CUT)
  t.same(set, [], 'a neighbour\'s duress or trouble does not light the lamp')
  sink.onEvent(ev(Kind.PANIC))
  sink.neighbourAlarm(Kind.WHISTLE)
  t.same(set, ['alarm'], 'own alarm stays on')
  sink.acknowledged('whistle')
  sink.neighbourAlarm(Kind.WHISTLE)
  t.same(set, ['alarm', 'acknowledged', 'neighbour-alarm'], 'after the ack, a new neighbour alarm shows')
})

t.test('once the lamp has gone back to normal by itself (alarm hold time over), a neighbour\'s alarm shows again', async (t) => {
  const set: LampPattern[] = []
  const lamp = { pattern: 'normal' as LampPattern, setPattern(p: LampPattern) { set.push(p); lamp.pattern = p } }
  const sink = new LampSink(lamp)
  sink.onEvent(ev(Kind.PANIC))
  lamp.pattern = 'normal' // the driver's hold timer
  sink.neighbourAlarm(Kind.WHISTLE)
  t.same(set, ['alarm', 'neighbour-alarm'])
})

t.test('"acknowledged" belongs to an alarm a person raised: a trouble or silent alert\'s ack leaves the lamp (issue 11 §6)', async (t) => {
  const set: LampPattern[] = []
  const sink = new LampSink(recordingLamp(set))
  for (const k of ['door_open', 'restored', 'escalation', 'missing', 'mains_lost', 'silent_holdup', 'duress', 'test', 'nonsense']) {
    t.equal(sink.acknowledged(k), false, `${k}: no change`)
  }
  t.same(set, [])
  for (const k of ['panic', 'whistle', 'sos']) t.equal(sink.acknowledged(k), true, `${k}: acknowledged`)
})

t.test('the lamp\'s state is republished only when its pattern changed, not for every alert of a storm (issue 13 §1)', async (t) => {
  const set: LampPattern[] = []
  const changed: LampPattern[] = []
  const sink = new LampSink(recordingLamp(set), (p) => changed.push(p))
  for (let i = 0; i < 5; i++) sink.onEvent(ev(Kind.PANIC))
  sink.acknowledged('panic')
  sink.onEvent(ev(Kind.PANIC))
  t.equal(set.length, 7, 'every alert still reaches the lamp (it restarts the hold time, and decides whether to write)')
  t.same(changed, ['alarm', 'acknowledged', 'alarm'])
})
