/**
 * Issue 15 "Roll call", the post side: the state machine on the fake clock, the
 * encoder's roll_call field (schema-valid), and the check-in role's config rules.
 */
import t from 'tap'
import { pino } from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { AlertEncoder } from '../../../protocols/mqtt/alert-encoder.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'
import { RollCall, type RollCallShown } from '../../../gateway/roll-call/roll-call.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import type { ConfigProblem } from '../../../gateway/config/config-error.js'
import { configProblems } from '../../harness/config-problems.js'

interface Input { device: number; kind: number; value: number }

function rig() {
  const clock = new FakeClock()
  const inputs: Input[] = []
  const counts: string[] = []
  const shown: (RollCallShown | null)[] = []
  let rollCallId = ''
  const rc = new RollCall({
    clock,
    core: {
      input: (device, kind, value) => { inputs.push({ device, kind, value }); return true },
      linkStatus: () => {},
      count: (device, counter) => { counts.push(`${device}:${counter}`) },
    },
    setRollCallId: (id) => { rollCallId = id; return true },
    show: (s) => shown.push(s),
    log: pino({ level: 'silent' }),
  })
  return { clock, rc, inputs, counts, shown, idSet: () => rollCallId }
}

const press = (rc: RollCall, device: number, kind: number = Kind.CHECK_IN) => rc.input(device, kind, 1, 0, NaN, -1)

t.test('a check-in press outside a roll call raises nothing and is counted', async (t) => {
  const { rc, inputs, counts } = rig()
  t.equal(press(rc, 3), false)
  t.same(inputs, [])
  t.same(counts, ['3:check_in_outside_roll_call'])
})

t.test('during a roll call: exactly one check_in, repeats counted, no missed at the deadline', async (t) => {
  const { clock, rc, inputs, counts, shown, idSet } = rig()
  const r = rc.start({ id: 'rc-1', deadline_s: 60 }, 'desk')
  t.match(r, { ok: true, id: 'rc-1', deadline: clock.now() + 60_000 })
  t.equal(idSet(), 'rc-1', 'the encoder gets the id when the roll call starts')
  t.same(shown, [{ id: 'rc-1', deadline: clock.now() + 60_000 }])
  clock.advance(5_000)
  t.equal(press(rc, 3), true)
  t.equal(press(rc, 3), false)
  t.equal(press(rc, 4), false, 'a second check-in device of the post: the post has answered')
  t.same(inputs, [{ device: 3, kind: Kind.CHECK_IN, value: 1 }])
  t.same(counts, ['3:check_in_repeated', '4:check_in_repeated'])
  t.same(shown.at(-1), null, 'the local display is cleared on the answer')
  clock.advance(60_000)
  t.equal(inputs.length, 1, 'no roll_call_missed for an answered roll call')
  t.equal(rc.current, null)
  press(rc, 3)
  t.same(counts.at(-1), '3:check_in_outside_roll_call', 'after the deadline a press is outside a roll call')
  t.match(rc.counters, { started: 1, checkIns: 1, missed: 0 })
})

t.test('no press: one roll_call_missed from the gateway at the deadline, not before', async (t) => {
  const { clock, rc, inputs, shown } = rig()
  rc.start({ id: 'rc-2', deadline_s: 120 }, 'desk')
  clock.advance(119_999)
  t.same(inputs, [])
  clock.advance(1)
  t.same(inputs, [{ device: 0, kind: Kind.ROLL_CALL_MISSED, value: 120 }])
  t.same(shown, [{ id: 'rc-2', deadline: clock.now() }, null])
  clock.advance(600_000)
  t.equal(inputs.length, 1, 'exactly one')
})

t.test('other kinds pass straight through, also during a roll call', async (t) => {
  const { rc, inputs } = rig()
  rc.start({ id: 'rc-3', deadline_s: 30 }, 'desk')
  press(rc, 1, Kind.PANIC)
  press(rc, 1, Kind.HEARTBEAT)
  t.same(inputs.map((i) => i.kind), [Kind.PANIC, Kind.HEARTBEAT])
  t.equal(rc.current?.answered, false, 'a panic is never a check-in')
})

t.test('a new roll call replaces the old one; the same id again (a QoS 1 repeat) changes nothing', async (t) => {
  const { clock, rc, inputs, idSet } = rig()
  const first = rc.start({ id: 'rc-a', deadline_s: 60 }, 'desk')
  clock.advance(10_000)
  t.same(rc.start({ id: 'rc-a', deadline_s: 60 }, 'desk'), first, 'repeat: same deadline')
  press(rc, 2)
  t.same(rc.start({ id: 'rc-a', deadline_s: 60 }, 'desk'), first)
  t.equal(rc.current?.answered, true, 'a repeated command does not reopen an answered roll call')
  rc.start({ id: 'rc-b', deadline_s: 120 }, 'desk') // at 10 s: deadline 130 s
  t.equal(idSet(), 'rc-b')
  t.equal(rc.current?.answered, false)
  clock.advance(55_000) // 65 s, past rc-a's deadline: its timer was cancelled
  t.same(inputs.map((i) => i.kind), [Kind.CHECK_IN])
  clock.advance(65_000)
  t.same(inputs.map((i) => i.kind), [Kind.CHECK_IN, Kind.ROLL_CALL_MISSED], 'only the new one is missed')
  t.match(rc.counters, { started: 2, replaced: 1, missed: 1 })
})

t.test('bad args are refused with what to do, and start nothing', async (t) => {
  const { rc, shown } = rig()
  for (const args of [{}, { id: 'rc 1', deadline_s: 60 }, { id: 'x'.repeat(65), deadline_s: 60 }, { id: 'rc-1' }, { id: 'rc-1', deadline_s: 4 }, { id: 'rc-1', deadline_s: 3601 }, { id: 'rc-1', deadline_s: 10.5 }, { id: 'rc-1', deadline_s: '60' }]) {
    const r = rc.start(args, 'desk')
    t.equal(r.ok, false, JSON.stringify(args))
    if (!r.ok) t.match(r.error, /args\.(id|deadline_s)/)
  }
  t.same(shown, [])
  t.equal(rc.current, null)
})

t.test('the encoder writes roll_call only for the two roll-call kinds, schema-valid', async (t) => {
  const enc = new AlertEncoder({ site: 'sh-huangpu', post: 'kiosk-017', postType: 'safety_house' })
  const gw = enc.internDevice({ id: 'gateway', kind: 'gateway', label: 'Gateway', location: '' })
  const btn = enc.internDevice({ id: 'check-in', kind: 'panic-button', label: 'Check-in button', location: '' })
  t.equal(enc.setRollCall('bad id'), false)
  t.equal(enc.setRollCall('rc-mf3k2-a1b2c3'), true)
  const out = Buffer.alloc(enc.maxLength)
  const enc1 = (device: number, kind: number) => {
    const n = enc.encode({ device, kind, seq: 7, value: 1, rssi: NaN, hwTime: 1, sentTime: 2, test: false }, out)
    return out.subarray(0, n).toString()
  }
  for (const [device, kind] of [[btn, Kind.CHECK_IN], [gw, Kind.ROLL_CALL_MISSED]]) {
    const r = checkPayload<{ roll_call: string; kind: string }>('alert', enc1(device, kind))
    t.ok(r.ok, r.ok ? 'valid' : r.error)
    if (r.ok) t.match(r.value, { roll_call: 'rc-mf3k2-a1b2c3' })
  }
  t.notMatch(enc1(btn, Kind.PANIC), /roll_call/)
  const long = 'x'.repeat(64)
  enc.setRollCall(long)
  t.ok(checkPayload('alert', enc1(btn, Kind.CHECK_IN)).ok, 'the longest id fits the pooled buffer')
})

const problemsOf = (text: string): readonly ConfigProblem[] => configProblems(text) ?? []

t.test('config: role check_in is accepted; with an alert_kind it is refused with its line', async (t) => {
  const head = 'site: sh-huangpu\npost: kiosk-017\ndevices:\n'
  const ok = parseConfig(`${head}  - id: check-in\n    kind: panic-button\n    role: check_in\n  - id: tag\n    kind: ble-whistle\n    role: check_in\n`)
  t.match(ok.devices, [{ role: 'check_in' }, { role: 'check_in' }])
  const p = problemsOf(`${head}  - id: check-in\n    kind: panic-button\n    role: check_in\n    alert_kind: panic\n`)
  t.equal(p.length, 1)
  t.match(p[0], { path: 'devices[0].alert_kind', line: 7, message: /role: check_in/, hint: /remove alert_kind/ })
  const b = problemsOf(`${head}  - id: tag\n    kind: ble-whistle\n    role: check_in\n    alert_kind: sos\n    long_press_kind: panic\n`)
  t.match(b, [{ path: 'devices[0].alert_kind', line: 7 }, { path: 'devices[0].long_press_kind', line: 8, hint: /same|none/ }])
  t.same(problemsOf(`${head}  - id: b\n    kind: panic-button\n    role: alarm\n    alert_kind: duress\n`), [], 'an alarm button keeps its alert_kind')
})

t.test('config: dc09.mapping may name both roll-call kinds (roll_call_missed has no default code)', async (t) => {
  const c = parseConfig('site: sh-huangpu\npost: kiosk-017\ndc09:\n  mapping:\n    roll_call_missed: { cid: "456", sia: "CI" }\n    check_in: { cid: "603" }\n')
  t.match(c.dc09?.mapping, { roll_call_missed: { cid: '456' }, check_in: { cid: '603' } })
})
