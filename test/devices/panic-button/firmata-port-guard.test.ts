/** The confirmation round of one Firmata port (issue 11), as a pure state machine. */
import t from 'tap'
import { FirmataPortGuard, Verdict } from '../../../devices/panic-button/firmata-port-guard.js'

const PULLUP = 0x0b
const OUTPUT = 1

function guard(): FirmataPortGuard {
  const g = new FirmataPortGuard(0)
  g.watch(2, PULLUP)
  g.watch(3, PULLUP)
  return g
}

t.test('a clean round confirms levels; a report before its pin states is not its answer', async (t) => {
  const g = guard()
  t.equal(g.report(0b1100, 0, 0), Verdict.QUERY, 'levels unknown: any report asks for a round')
  g.startRound(10, 1, 0)
  t.equal(g.report(0b1000, 0, 11), Verdict.QUERY, 'pin states not in yet: not the answer')
  t.ok(g.pinState(2, PULLUP) && g.pinState(3, PULLUP), 'asked-for pin states taken')
  t.notOk(g.pinState(5, PULLUP), 'a pin nobody watches is not taken')
  t.equal(g.report(0b1000, 0, 12), Verdict.OK)
  t.same([g.levelAt(0), g.levelAt(1)], [0, 1], 'D2 low, D3 high')
  t.equal(g.edgeAt(0), 11, 'the edge is when a report first claimed it, not the confirmation')
  t.notOk(g.pinState(2, PULLUP), 'no round open: an unsolicited pin state is not taken')
  t.equal(g.report(0b1000, 0, 20), Verdict.IGNORE, 'a repeat changes nothing')
})

t.test('noise between the round and its answer makes it dirty', async (t) => {
  const g = guard()
  g.startRound(0, 1, 5)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 6, 1), Verdict.DIRTY)
  t.notOk(g.open, 'closed: the caller asks again')
})

t.test('a pin out of its mode is WRONG, and a phantom change the round contradicts is counted', async (t) => {
  const g = guard()
  g.startRound(0, 1, 0)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 1), Verdict.OK)
  t.equal(g.report(0b1000, 0, 2), Verdict.QUERY, 'a claimed press')
  g.startRound(3, 1, 0)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 4), Verdict.OK, 'the board says released')
  t.equal(g.unconfirmed, 1, 'the phantom counted')
  t.equal(g.levelAt(0), 1)
  g.startRound(5, 1, 0)
  g.pinState(2, OUTPUT); g.pinState(3, PULLUP)
  t.equal(g.report(0, 0, 6), Verdict.WRONG)
  t.same([g.wrongPin, g.wrongMode], [2, OUTPUT])
  t.equal(g.levelAt(0), 1, 'levels from a wrong round are not taken')
})

t.test('an unanswered round expires after the timeout', async (t) => {
  const g = guard()
  g.startRound(100, 1, 0)
  t.notOk(g.expire(599, 500))
  t.ok(g.expire(600, 500))
  t.notOk(g.open)
})

t.test('a press the board reported and took back before a slow round answered: a pulse if the line was quiet', async (t) => {
  const g = guard()
  g.startRound(0, 1, 0)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 1), Verdict.OK)
  t.equal(g.report(0b1000, 0, 100, true), Verdict.QUERY, 'pressed (quiet line)')
  g.startRound(101, 1, 0)
  t.equal(g.report(0b1100, 0, 300, true), Verdict.IGNORE, 'released before the round answered')
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 500), Verdict.OK)
  t.equal(g.pulseAt(0), 0, 'the pulse: D2 low')
  t.same(g.pulseSpan(0), [100, 300], 'from the press report to the release report')
  t.equal(g.unconfirmed, 0)

  t.equal(g.report(0b1000, 0, 600, false), Verdict.QUERY, 'a claim next to noise')
  g.startRound(601, 1, 0)
  g.report(0b1100, 0, 602, true)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 700), Verdict.OK)
  t.equal(g.pulseAt(0), -1, 'not quiet: no pulse')
  t.equal(g.unconfirmed, 1, 'counted as a phantom caught')

  t.equal(g.report(0b1000, 0, 800, true), Verdict.QUERY)
  g.startRound(801, 1, 0)
  g.report(0b1100, 1, 802, true)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 1, 900), Verdict.DIRTY, 'noise after the claim: the round is dirty')
  g.startRound(925, 1, 1)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 1, 950), Verdict.OK)
  t.equal(g.pulseAt(0), -1, 'noise between the claim and the answer: no pulse')
})

t.test('a claim made while the pins are being set up again (not yet confirmed) is never a pulse', async (t) => {
  const g = guard()
  g.startRound(0, 1, 0)
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 1), Verdict.OK)
  // after a reset: D2's setup turns reporting on while D3 is still OUTPUT (reads 0), then D3's setup
  g.startRound(10, 2, 0)
  t.equal(g.report(0b0100, 0, 11, true, false), Verdict.QUERY, 'D3 claims 0 mid-setup')
  t.equal(g.report(0b1100, 0, 100, true, false), Verdict.IGNORE, 'D3 an input: 1 again, 89 ms later')
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 101), Verdict.OK)
  t.equal(g.pulseAt(1), -1, 'no pulse from the setup')
  t.equal(g.unconfirmed, 0, 'nor a phantom caught: a pin being set up, not noise (firmata_unconfirmed_reports)')

  // a real press the board reported before the reset, released while it booted: still a pulse
  t.equal(g.report(0b1000, 0, 200, true), Verdict.QUERY, 'D2 pressed on a settled port')
  g.startRound(201, 3, 0)
  t.equal(g.report(0b1100, 0, 400, true, false), Verdict.IGNORE, 'released, as the re-setup reports it')
  g.pinState(2, PULLUP); g.pinState(3, PULLUP)
  t.equal(g.report(0b1100, 0, 401), Verdict.OK)
  t.equal(g.pulseAt(0), 0, 'the press reported before the setup is still a pulse')
  t.same(g.pulseSpan(0), [200, 400])
})
