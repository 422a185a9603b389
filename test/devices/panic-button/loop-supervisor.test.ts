import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { LoopSupervisor, LOOP_ZONE_NAMES, loopReading, loopThresholds, type LoopThresholds } from '../../../devices/panic-button/loop-supervisor.js'

const R = { refOhms: 4700, normalOhms: 2200, alarmOhms: 4400, adcMax: 1023 }

t.test('expected readings and computed thresholds for EOL 2k2 + 2k2 with a 4k7 reference', async (t) => {
  t.equal(loopReading(2200, R), 326)
  t.equal(loopReading(4400, R), 495)
  const th = loopThresholds(R, { shortBelow: 0, alarmAbove: 0, openAbove: 0 }, 20, 30)
  t.ok(th.ok)
  if (th.ok) t.match(th.value, { shortBelow: 163, alarmAbove: 411, openAbove: 759 })
})

t.test('thresholds that leave no room for hysteresis are a config error naming the fields', async (t) => {
  const th = loopThresholds({ ...R, alarmOhms: 2300 }, { shortBelow: 0, alarmAbove: 0, openAbove: 0 }, 20, 30)
  t.notOk(th.ok)
  if (!th.ok) t.match(th.error, /loop_\*_ohms/)
})

const TH: LoopThresholds = { shortBelow: 163, alarmAbove: 411, openAbove: 759, hysteresis: 20, settleMs: 30 }
type Step = [number, number | null]
function run(steps: Step[], th = TH): string[] {
  const clock = new FakeClock()
  const out: string[] = []
  const s = new LoopSupervisor(th, clock, { loopZone: (z, prev) => out.push(`${clock.monotonic()}:${prev === -1 ? 'none' : LOOP_ZONE_NAMES[prev]}>${LOOP_ZONE_NAMES[z]}`) })
  for (const [ms, reading] of steps) { clock.advance(ms); if (reading !== null) s.sample(reading) }
  s.dispose()
  return out
}

const table: Array<{ name: string; steps: Step[]; want: string[] }> = [
  { name: 'first reading settles into its zone', steps: [[0, 326], [100, null]], want: ['30:none>normal'] },
  { name: 'press, release', steps: [[0, 326], [100, 495], [100, 326], [100, null]], want: ['30:none>normal', '130:normal>alarm', '230:alarm>normal'] },
  { name: 'cut wire', steps: [[0, 326], [100, 1023], [100, null]], want: ['30:none>normal', '130:normal>open'] },
  { name: 'short', steps: [[0, 326], [100, 3], [100, null]], want: ['30:none>normal', '130:normal>short'] },
  { name: 'noise around the alarm threshold does not flap (hysteresis)',
    steps: [[0, 326], [100, 405], [5, 415], [5, 425], [5, 400], [5, 428], [100, null]], want: ['30:none>normal'] },
  { name: 'a spike shorter than the settle time is ignored', steps: [[0, 326], [100, 1023], [10, 326], [100, null]], want: ['30:none>normal'] },
  { name: 'leaving alarm needs the reading below threshold minus hysteresis',
    steps: [[0, 495], [100, 400], [100, 385], [100, null]], want: ['30:none>alarm', '230:alarm>normal'] },
  { name: 'open circuit straight to normal (repaired)', steps: [[0, 1023], [100, 326], [100, null]], want: ['30:none>open', '130:open>normal'] },
]
for (const row of table) t.test(row.name, async (t) => { t.same(run(row.steps), row.want) })

t.test('settle 0 reports at once', async (t) => {
  t.same(run([[0, 326], [1, 600]], { ...TH, settleMs: 0 }), ['0:none>normal', '1:normal>alarm'])
})
