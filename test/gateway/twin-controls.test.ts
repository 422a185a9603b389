/**
 * The panic-button twin's remote controls (gateway/twin-controls.ts), as the
 * demo's keys, `safehouse simulate` and the sim/ topics use them: a press
 * while the last press is still held is no new edge, and the control says
 * so instead of answering "accepted" and raising nothing.
 */
import t from 'tap'
import pino from 'pino'
import { FakeClock } from '../../devices/time/clock.js'
import { SimPanicButtonDriver } from '../../devices/panic-button/sim-panic-button.js'
import { panicButtonDefaults } from '../../devices/panic-button/config.js'
import { panicTwinControl } from '../../gateway/twin-controls.js'
import { RecordingSink } from '../devices/panic-button/recording-sink.js'

t.test('a press while the last one is still held is refused with the reason; after the release it raises again', async (t) => {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const sim = new SimPanicButtonDriver({ buttons: [{ index: 0, config: panicButtonDefaults('counter', {}) }] }, { clock, log: pino({ level: 'silent' }), sink })
  await sim.start(new AbortController().signal)
  clock.advance(100)
  const twin = panicTwinControl(sim, 'counter')

  t.equal(twin.act('press'), null, 'the first press is accepted')
  t.ok(sim.isPressed('counter'))
  t.match(twin.act('press'), /^counter is still held down from the last press, so this press is no new edge and raises no alert; press again once it is released$/)
  t.match(twin.act('hold', 3000), /still held down/, 'a hold too')
  clock.advance(1000)
  t.notOk(sim.isPressed('counter'), 'released')
  t.same(sink.names(0), ['panic', 'release'], 'one alert for the one real press')

  t.equal(twin.act('hold', 3000), null)
  clock.advance(1000)
  t.match(twin.act('press'), /still held down/, 'the refused press does not cut the hold short')
  clock.advance(1500)
  t.ok(sim.isPressed('counter'), 'still held 2.5 s into a 3 s hold')
  clock.advance(1000)
  t.same(sink.names(0), ['panic', 'release', 'panic', 'release'])
  t.equal(twin.act('press'), null)
  clock.advance(1000)
  t.same(sink.names(0), ['panic', 'release', 'panic', 'release', 'panic', 'release'])

  t.equal(panicTwinControl(sim, 'nope').act('press'), 'no button nope')
  await sim.stop()
})
