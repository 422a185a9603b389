import t from 'tap'
import pino from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { SimPanicButtonDriver } from '../../../devices/panic-button/sim-panic-button.js'
import { panicButtonDefaults } from '../../../devices/panic-button/config.js'
import { RecordingSink } from './recording-sink.js'

t.test('the sim twin opens asynchronously and runs the same press and loop semantics', async (t) => {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const sim = new SimPanicButtonDriver({
    buttons: [
      { index: 0, config: panicButtonDefaults('counter', {}) },
      { index: 1, config: panicButtonDefaults('outside', { hold_ms: 1500 }) },
      { index: 2, config: panicButtonDefaults('loop', { wiring: 'eol_supervised', stuck_s: 5 }) },
    ],
  }, { clock, log: pino({ level: 'silent' }), sink })
  await sim.start(new AbortController().signal)
  t.equal(sink.lastLink(0)?.status, 'starting', 'not online before the simulated handshake')
  clock.advance(100)
  t.equal(sink.lastLink(0)?.status, 'online')

  t.ok(sim.press('counter'))
  clock.advance(1000)
  t.same(sink.names(0), ['panic', 'release'])

  sim.press('outside', 500)
  clock.advance(2000)
  t.same(sink.names(1), [], 'too short for hold-to-confirm')
  sim.press('outside')
  clock.advance(5000)
  t.same(sink.names(1), ['panic', 'release'])

  t.notOk(sim.cut('counter'), 'a plain contact cannot see its wire cut')
  clock.advance(100) // initial loop zone settles
  t.ok(sim.cut('loop')); clock.advance(100)
  t.ok(sim.restore('loop')); clock.advance(100)
  t.ok(sim.short('loop')); clock.advance(100)
  sim.restore('loop'); clock.advance(100)
  t.same(sink.names(2), ['loop_normal', 'wire_cut', 'restored', 'loop_normal', 'wire_short', 'restored', 'loop_normal'])

  sink.clear()
  sim.setPressed('loop', true)
  clock.advance(60_000)
  t.same(sink.names(2), ['panic', 'stuck'], 'stuck reported once over a minute')
  sim.setPressed('loop', false); clock.advance(100)
  t.same(sink.names(2), ['panic', 'stuck', 'restored', 'release', 'loop_normal'])

  sink.clear()
  sim.unplug()
  t.equal(sink.lastLink(0)?.status, 'fault')
  t.same(sink.names(0), ['device_fault'])
  sim.replug()
  t.same(sink.names(0), ['device_fault', 'restored'])
  t.equal(sink.inputs.filter((i) => i.device === 0)[1].value, Kind.DEVICE_FAULT, 'restored names the fault')

  await sim.stop()
  t.equal(clock.pendingTimers(), 0, 'no timers left')
  t.equal(sink.lastLink(0)?.status, 'offline')
})

t.test('role check_in (issue 15): a press is CHECK_IN, and press_count never escalates it', async (t) => {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const sim = new SimPanicButtonDriver({
    buttons: [{ index: 0, config: panicButtonDefaults('check-in', { role: 'check_in', press_count: 2 }) }],
  }, { clock, log: pino({ level: 'silent' }), sink })
  await sim.start(new AbortController().signal)
  clock.advance(100)
  for (let i = 0; i < 3; i++) {
    sim.press('check-in')
    clock.advance(1000)
  }
  t.same(sink.names(0), ['check_in', 'release', 'check_in', 'release', 'check_in', 'release'], 'no panic, no escalation')
  await sim.stop()
})
