import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind, KIND_NAMES } from '../../../protocols/event-kinds.js'
import { PressDetector, type PressOptions } from '../../../devices/panic-button/press-detector.js'

const base: PressOptions = { debounceMs: 30, holdMs: 0, pressCount: 0, pressWindowMs: 10000, stuckMs: 60000, alertKind: Kind.PANIC }

/** Steps: [ms to advance, level to set or null] ; events as "t:name[:value]" strings. */
type Step = [number, boolean | null]
function run(opts: Partial<PressOptions>, steps: Step[]): string[] {
  const clock = new FakeClock()
  const out: string[] = []
  const d = new PressDetector({ ...base, ...opts }, clock, {
    pressEvent: (kind, value) => out.push(`${clock.monotonic()}:${KIND_NAMES[kind]}${Number.isNaN(value) ? '' : ':' + value}`),
  })
  for (const [ms, level] of steps) {
    clock.advance(ms)
    if (level !== null) d.sample(level)
  }
  d.dispose()
  t.equal(clock.pendingTimers(), 0, 'no timers left after dispose')
  return out
}

const table: Array<{ name: string; opts: Partial<PressOptions>; steps: Step[]; want: string[] }> = [
  { name: 'press is reported after the debounce, release after its debounce', opts: {},
    steps: [[0, true], [100, false], [100, null]], want: ['30:panic:1', '130:release'] },
  { name: 'glitch shorter than the debounce leaves no trace', opts: {},
    steps: [[0, true], [10, false], [100, null]], want: [] },
  { name: 'bouncing contact counts once', opts: {},
    steps: [[0, true], [2, false], [2, true], [2, false], [2, true], [200, false], [100, null]], want: ['38:panic:1', '238:release'] },
  { name: 'repeated same level is ignored', opts: {},
    steps: [[0, true], [5, true], [5, true], [100, null]], want: ['30:panic:1'] },
  { name: 'debounce 0 reports at once', opts: { debounceMs: 0 },
    steps: [[5, true], [5, false]], want: ['5:panic:1', '10:release'] },
  { name: 'hold-to-confirm fires the moment the hold is reached (from the edge)', opts: { holdMs: 1500 },
    steps: [[0, true], [3000, false], [100, null]], want: ['1500:panic:1', '3030:release'] },
  { name: 'released before the hold: nothing', opts: { holdMs: 1500 },
    steps: [[0, true], [1400, false], [1000, null]], want: [] },
  { name: 'hold shorter than the debounce confirms at the debounce', opts: { holdMs: 10 },
    steps: [[0, true], [100, null]], want: ['30:panic:1'] },
  { name: 'three presses in the window escalate once', opts: { pressCount: 3, pressWindowMs: 5000 },
    steps: [[0, true], [100, false], [100, true], [100, false], [100, true], [100, false], [100, true], [100, false], [100, null]],
    want: ['30:panic:1', '130:release', '230:panic:2', '330:release', '430:panic:3', '430:escalation:3', '530:release', '630:panic:4', '730:release'] },
  { name: 'presses spread beyond the window do not escalate', opts: { pressCount: 2, pressWindowMs: 1000 },
    steps: [[0, true], [100, false], [2000, true], [100, false], [100, null]],
    want: ['30:panic:1', '130:release', '2130:panic:1', '2230:release'] },
  { name: 'stuck contact: one STUCK, then RESTORED on release, never a flood', opts: { stuckMs: 5000 },
    steps: [[0, true], [60000, false], [100, null]], want: ['30:panic:1', '5000:stuck', '60030:restored:8', '60030:release'] },
  { name: 'silent hold-up kind is raised as configured', opts: { alertKind: Kind.SILENT_HOLDUP },
    steps: [[0, true], [100, null]], want: ['30:silent_holdup:1'] },
]

for (const row of table) {
  t.test(row.name, async (t) => { t.same(run(row.opts, row.steps), row.want) })
}

t.test('link lost keeps the debounced level: a still-held button is not a new press', async (t) => {
  const clock = new FakeClock()
  const out: string[] = []
  const d = new PressDetector(base, clock, { pressEvent: (k) => out.push(KIND_NAMES[k]) })
  d.sample(true); clock.advance(50)
  d.linkLost()
  d.sample(true); clock.advance(50)
  t.same(out, ['panic'])
  t.equal(d.pressed, true)
  d.sample(false); clock.advance(50)
  t.same(out, ['panic', 'release'])
  d.dispose()
})

t.test('short presses under hold are counted', async (t) => {
  const clock = new FakeClock()
  const d = new PressDetector({ ...base, holdMs: 1000 }, clock, { pressEvent: () => t.fail('no event') })
  d.sample(true); clock.advance(500); d.sample(false); clock.advance(100)
  t.equal(d.shortPresses, 1)
  d.dispose()
})
