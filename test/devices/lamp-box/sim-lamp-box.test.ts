/**
 * The simulated twin with FakeClock: the shared driver logic (scheduling,
 * hold timers, reopen with backoff, generic DI/DO blinking) without sleeps.
 */
import t from 'tap'
import pino from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { CH_RED } from '../../../protocols/lamp-box/register-map.js'
import { lampBoxDefaults, type LampBoxConfigOverrides } from '../../../devices/lamp-box/config.js'
import { SimLampBox } from '../../../devices/lamp-box/sim-lamp-box.js'
import { restoreValue, FAULT_PORT_LOST } from '../../../devices/lamp-box/lamp-supervisor.js'
import { ReopenBackoff } from '../../../devices/lamp-box/reopen-backoff.js'
import { RecordingSink } from '../../harness/lamp-box-sink.js'

async function setup(t: { teardown(fn: () => unknown): void }, over: Partial<LampBoxConfigOverrides> = {}) {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const cfg = lampBoxDefaults({ id: 'roof', poll_ms: 1000, timeout_ms: 300, supervision_s: 5, ...over })
  const lamp = new SimLampBox(cfg, 2, { clock, log: pino({ level: 'silent' }), sink })
  const abort = new AbortController()
  t.teardown(() => lamp.stop())
  /** Advance fake time in small steps, letting promise continuations run between them. */
  const run = async (ms: number, step = 5): Promise<void> => {
    for (let done = 0; done < ms; done += step) {
      clock.advance(Math.min(step, ms - done))
      await new Promise((r) => setImmediate(r))
    }
  }
  const started = lamp.start(abort.signal)
  await run(10)
  await started
  await run(1100)
  return { clock, sink, lamp, run, cfg }
}

t.test('online, writes alarm at once, back to normal after alarm_hold_s', async (t) => {
  const { clock, sink, lamp, run } = await setup(t, { alarm_hold_s: 60 })
  t.equal(sink.lastLink?.status, 'online')
  t.equal(lamp.lampPattern, 'normal')
  const at = clock.now()
  lamp.setPattern('alarm', 'panic')
  await run(20)
  t.equal(lamp.lampPattern, 'alarm')
  const w = lamp.writes[lamp.writes.length - 1]
  t.ok(w.at - at <= 10, `written ${w.at - at} ms after setPattern (one reply latency)`)
  await run(59_000)
  t.equal(lamp.lampPattern, 'alarm', 'still alarm before the hold ends')
  await run(1_100)
  t.equal(lamp.lampPattern, 'normal', 'normal after alarm_hold_s')
  t.equal(lamp.pattern, 'normal')
})

t.test('a storm: each alert restarts the hold, with one write; a shorter hold after it ends on time (issue 13 §1)', async (t) => {
  const { lamp, run } = await setup(t, { alarm_hold_s: 60, ack_hold_s: 10 })
  lamp.setPattern('alarm', 'panic')
  await run(20)
  const writes = lamp.writeCount
  for (let i = 0; i < 5; i++) { await run(30_000); lamp.setPattern('alarm', 'panic again') }
  t.equal(lamp.writeCount, writes, 'the controller confirmed alarm: no write per alert (polls in between)')
  await run(59_000)
  t.equal(lamp.lampPattern, 'alarm', '59 s after the LAST alert (209 s after the first): still alarm')
  await run(1_100)
  t.equal(lamp.lampPattern, 'normal', '60 s after the last alert: normal')
  lamp.setPattern('alarm', 'panic')
  await run(1_000)
  lamp.setPattern('acknowledged', 'station ack') // 10 s hold, while the alarm's 60 s timer is armed
  await run(9_000)
  t.equal(lamp.lampPattern, 'acknowledged')
  await run(1_100)
  t.equal(lamp.lampPattern, 'normal', 'after ack_hold_s, not after the alarm\'s 60 s')
})

t.test('a twin running for days keeps only its last 256 writes, and counts them all', async (t) => {
  const { lamp, run } = await setup(t, { alarm_hold_s: 60 })
  const before = lamp.writeCount
  for (let i = 0; i < 150; i++) {
    lamp.setPattern('alarm', 'panic'); await run(20)
    lamp.setPattern('normal', 'cleared'); await run(20)
  }
  t.equal(lamp.writeCount, before + 300, 'every change written once')
  t.equal(lamp.writes.length, 256)
  t.equal(lamp.writes[lamp.writes.length - 1].pattern, 'normal', 'the newest last')
})

t.test('acknowledged and test hold their own times; a station command ends them', async (t) => {
  const { lamp, run } = await setup(t, { ack_hold_s: 10, test_s: 3 })
  lamp.setPattern('acknowledged', 'station ack')
  await run(9_000)
  t.equal(lamp.lampPattern, 'acknowledged')
  await run(1_100)
  t.equal(lamp.lampPattern, 'normal')
  lamp.setPattern('test', 'station lamp test')
  await run(1_000)
  t.equal(lamp.lampPattern, 'test')
  lamp.setPattern('normal', 'station command')
  await run(50)
  t.equal(lamp.lampPattern, 'normal')
  await run(5_000)
  t.equal(lamp.lampPattern, 'normal', 'the old test timer was cancelled')
})

t.test('a vanished port without any close event: fault within 2 s, reopen, pattern rewritten', async (t) => {
  const { sink, lamp, run } = await setup(t)
  lamp.setPattern('alarm', 'panic')
  await run(50)
  lamp.vanish()
  lamp.model.reboot() // the controller lost power too
  await run(2000)
  t.equal(sink.of(Kind.DEVICE_FAULT, FAULT_PORT_LOST).length, 1, 'fault within 2 s of fake time')
  t.equal(sink.lastLink?.status, 'fault')
  t.match(lamp.diagnosis, /serial port lost|cannot open simulated/)
  await run(20_000)
  t.equal(sink.of(Kind.DEVICE_FAULT).length, 1, 'one fault while reopen keeps failing')
  t.equal(sink.of(Kind.MISSING).length, 1, 'and missing after supervision_s')
  lamp.replug()
  await run(20_000)
  t.equal(sink.lastLink?.status, 'online')
  t.equal(lamp.lampPattern, 'alarm', 'pattern pushed again after reopen')
  t.equal(sink.of(Kind.RESTORED, restoreValue(Kind.DEVICE_FAULT, FAULT_PORT_LOST)).length, 1)
  t.equal(sink.of(Kind.RESTORED, restoreValue(Kind.MISSING, 0)).length, 1)
})

t.test('a controller reset mid-alarm is noticed and the pattern rewritten', async (t) => {
  const { sink, lamp, run } = await setup(t)
  lamp.setPattern('alarm', 'panic')
  await run(100)
  lamp.model.reboot()
  t.equal(lamp.lampPattern, 'normal')
  await run(2_100)
  t.equal(lamp.lampPattern, 'alarm')
  t.equal(sink.n('lamp_pattern_rewrite'), 1)
  t.equal(sink.of(Kind.LAMP_FAULT).length, 0, 'one rewrite fixes it: no lamp fault')
})

t.test('garbled replies and silence are counted; silence becomes MISSING', async (t) => {
  const { sink, lamp, run } = await setup(t)
  lamp.setGarbled(true)
  await run(3_000)
  t.ok(sink.n('modbus_crc') >= 2)
  lamp.setGarbled(false)
  lamp.setSilent(true)
  await run(6_000)
  t.ok(sink.n('modbus_timeout') >= 3)
  t.equal(sink.of(Kind.MISSING).length, 1)
  t.match(lamp.diagnosis, /stopped answering/)
  lamp.setSilent(false)
  await run(1_100)
  t.equal(sink.of(Kind.RESTORED, restoreValue(Kind.MISSING, 0)).length, 1)
})

t.test('generic DI/DO module: steady and blinking coil programs, door and sense inputs', async (t) => {
  const { sink, lamp, run } = await setup(t, { profile: 'generic-dido', generic: { blink_ms: 500 } })
  const coils = (): number => lamp.model.coils[0] | (lamp.model.coils[1] << 1)
  t.equal(coils(), 3, 'normal = both steady')
  lamp.setPattern('alarm', 'panic')
  const seen: number[] = []
  await run(20) // sample between toggles, after each write's reply latency
  t.equal(coils(), 1, 'alarm starts on red at once')
  for (let i = 0; i < 4; i++) { await run(500); seen.push(coils()) }
  t.same(seen, [2, 1, 2, 1], 'alternate red/blue every blink_ms')
  lamp.setPattern('acknowledged', 'ack')
  await run(1_000)
  t.equal(coils(), 2, 'acknowledged = blue')
  lamp.setPattern('normal', 'cmd')
  await run(3_000)
  lamp.model.doorOpen = true
  await run(1_100)
  t.equal(sink.of(Kind.DOOR_OPEN).length, 1)
  lamp.model.redBroken = true
  await run(3_100)
  t.same(sink.of(Kind.CHANNEL_FAULT).map((i) => i.value), [CH_RED], 'sense input off while red is driven')
  t.equal(sink.of(Kind.LAMP_FAULT).length, 0, 'generic modules have no pattern register to compare')
})

t.test('reopen backoff: exponential, jittered, capped', async (t) => {
  const lo = new ReopenBackoff({ baseMs: 100, maxMs: 1000, random: () => 0 })
  t.same([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 400, 500])
  const hi = new ReopenBackoff({ baseMs: 100, maxMs: 1000, random: () => 0.999999 })
  t.same([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000])
  hi.reset()
  t.equal(hi.next(), 100)
})
