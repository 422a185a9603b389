import t from 'tap'
import { CounterVerdict as V, judgeCounter, type CounterRule } from '../../../devices/ble-whistle/replay-policy.js'

const RULE: CounterRule = { allowReset: true, resetMax: 100, resetSilenceMs: 60_000 }
const NEVER: CounterRule = { ...RULE, allowReset: false }

t.test('counter verdicts', async (t) => {
  // [last, lastValidMono, counter, now, rule, verdict, why]
  const rows: [number, number, number, number, CounterRule, number, string][] = [
    [-1, -1, 0, 0, RULE, V.FRESH, 'first contact: trust on first use'],
    [10, 0, 11, 1, RULE, V.FRESH, 'increase'],
    [10, 0, 0xffffffff, 1, RULE, V.FRESH, 'jump up'],
    [10, 0, 10, 1, RULE, V.SAME, 'same counter'],
    [10, 0, 9, 1, RULE, V.REPLAY, 'decrease, not small? 9 < 100 but device not silent'],
    [5000, 0, 3, 59_999, RULE, V.REPLAY, 'silence one ms short'],
    [5000, 0, 3, 60_000, RULE, V.RESET, 'small after silence'],
    [5000, 0, 100, 600_000, RULE, V.REPLAY, 'not below reset_max'],
    [5000, -1, 3, 5, RULE, V.RESET, 'silence unknown after a gateway restart'],
    [5000, 0, 3, 600_000, NEVER, V.REPLAY, 'counter_reset: never'],
    [0xffffffff, 0, 0, 60_000, RULE, V.RESET, 'wrap-around is a restart'],
  ]
  for (const [last, lv, c, now, rule, want, why] of rows) t.equal(judgeCounter(last, lv, c, now, rule), want, why)
})
