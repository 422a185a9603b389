/** Press-to-learn rules (provisioning/pair/button-learn.ts) on a FakeClock: no sleeps. */
import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { LoopZone } from '../../../devices/panic-button/loop-supervisor.js'
import { DEFAULT_LEARN, PressLearner } from '../../../provisioning/pair/button-learn.js'
import { thresholdsFor, reportLoop, loopOhms, formatOhms } from '../../../provisioning/pair/button-loop-check.js'
import { panicButtonDefaults } from '../../../devices/panic-button/config.js'

const loopSettings = panicButtonDefaults('x')
const th = thresholdsFor(loopSettings)

function setup() {
  const clock = new FakeClock()
  const l = new PressLearner(clock, DEFAULT_LEARN)
  const d2 = l.digital('D2')
  const d3 = l.digital('D3')
  const a0 = l.analog('A0', th)
  d2.sample(1); d3.sample(1); a0.sample(326)
  l.startBaseline()
  clock.advance(500)
  a0.sample(327); a0.sample(325)
  clock.advance(200)
  l.arm()
  return { clock, l, d2, d3, a0 }
}

t.test('a clean press and release is learned; a glitch is not a press', async (t) => {
  const { clock, l, d2, d3, a0 } = setup()
  t.equal(d2.rest, 1, 'pulled-up input rests high')
  t.equal(a0.rest, LoopZone.NORMAL)
  d3.sample(0); clock.advance(5); d3.sample(1) // 5 ms glitch, under the 30 ms debounce
  clock.advance(100)
  t.same(l.verdict(), { kind: 'waiting' })
  d2.sample(0); clock.advance(200)
  t.same(l.verdict(), { kind: 'waiting' }, 'pressed, not yet released or held long enough')
  d2.sample(1); clock.advance(50)
  const v = l.verdict()
  t.equal(v.kind, 'learned')
  if (v.kind === 'learned') { t.equal(v.input, d2); t.equal(v.how, 'press and release') }
})

t.test('a change that holds counts as a press (held button)', async (t) => {
  const { clock, l, d3 } = setup()
  d3.sample(0)
  clock.advance(DEFAULT_LEARN.heldMs + 100)
  const v = l.verdict()
  t.equal(v.kind, 'learned')
  if (v.kind === 'learned') t.equal(v.how, 'held')
})

t.test('two inputs change: several, nothing learned', async (t) => {
  const { clock, l, d2, d3 } = setup()
  d2.sample(0); d3.sample(0); clock.advance(100)
  d2.sample(1); d3.sample(1); clock.advance(100)
  const v = l.verdict()
  t.equal(v.kind, 'several')
  if (v.kind === 'several') t.same(v.inputs.map((i) => i.name), ['D2', 'D3'])
  l.arm()
  t.same(l.verdict(), { kind: 'waiting' }, 'a new baseline starts over')
})

t.test('a chattering input is ignored, the real press still learned', async (t) => {
  const { clock, l, d2, d3 } = setup()
  for (let i = 0; i < 10; i++) { d3.sample(i & 1); clock.advance(50) }
  t.match(d3.ignored, /chatters/)
  d2.sample(0); clock.advance(100); d2.sample(1); clock.advance(100)
  const v = l.verdict()
  t.equal(v.kind, 'learned')
  if (v.kind === 'learned') t.equal(v.input, d2)
})

t.test('inputs that flap during the baseline are ignored from the start', async (t) => {
  const clock = new FakeClock()
  const l = new PressLearner(clock, DEFAULT_LEARN)
  const d4 = l.digital('D4')
  const a1 = l.analog('A1', th)
  l.startBaseline()
  for (let i = 0; i < 5; i++) { d4.sample(i & 1); a1.sample(i & 1 ? 300 : 390); clock.advance(60) }
  l.arm()
  t.match(d4.ignored, /kept changing while nothing was pressed/)
  t.match(a1.ignored, /readings wander \(300\.\.390\)/)
})

t.test('a supervised loop: normal -> alarm -> normal is a press; normal -> open is not', async (t) => {
  const { clock, l, a0 } = setup()
  a0.sample(1023); clock.advance(100)
  t.equal(a0.state, LoopZone.OPEN)
  clock.advance(DEFAULT_LEARN.heldMs + 100)
  t.same(l.verdict(), { kind: 'waiting' }, 'a cut wire is a fault, not a press')
  a0.sample(326); clock.advance(100)
  a0.sample(495); clock.advance(100)
  a0.sample(326); clock.advance(100)
  const v = l.verdict()
  t.equal(v.kind, 'learned')
  if (v.kind === 'learned') t.equal(v.input, a0)
})

t.test('a loop that does not rest normal is never a candidate', async (t) => {
  const clock = new FakeClock()
  const l = new PressLearner(clock, DEFAULT_LEARN)
  const a2 = l.analog('A2', th)
  a2.sample(0); clock.advance(100)
  l.arm()
  a2.sample(326); clock.advance(100); a2.sample(0); clock.advance(100)
  t.same(l.verdict(), { kind: 'waiting' })
})

t.test('loop readings: resistance and zone with the driver thresholds', async (t) => {
  t.equal(Math.round(loopOhms(326, 4700, 1023)), 2198)
  t.equal(loopOhms(1023, 4700, 1023), Infinity)
  t.equal(formatOhms(2198), '2.2 kΩ')
  t.equal(formatOhms(0), '0 Ω')
  t.match(reportLoop(326, loopSettings, th), { zone: 'normal' })
  t.match(reportLoop(495, loopSettings, th), { zone: 'alarm', advice: /release the button/ })
  t.match(reportLoop(1023, loopSettings, th), { zone: 'open', advice: /cut or loose wire/ })
  t.match(reportLoop(3, loopSettings, th), { zone: 'short', advice: /shorted/ })
  t.throws(() => thresholdsFor({ ...loopSettings, loop_alarm_ohms: 2300 }), /not increasing/)
})
