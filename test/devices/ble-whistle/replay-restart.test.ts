/**
 * Issue 12 §5: a recorded whistle sequence cannot be replayed into verified
 * alarms, with the default `counter_reset: small_after_silence`, against the
 * real receiver and the file-backed counter store. A button whose counter
 * restarts after a battery change still raises its alarms (marked
 * unverified) until it counts past its old high-water mark or a technician
 * re-pairs it.
 */
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../../devices/time/clock.js'
import { InputFlag, Kind } from '../../../protocols/event-kinds.js'
import { FileReplayCounterStore } from '../../../devices/ble-whistle/replay-store-file.js'
import { MemoryReplayCounterStore, type ReplayCounterStore } from '../../../devices/ble-whistle/replay-store.js'
import { WhistleReceiver } from '../../../devices/ble-whistle/whistle-receiver.js'
import { bthomeAdvert, config, encryptBTHome, hex, RecordingSink } from './whistle-receiver-fixtures.js'

const SECURE = '54:48:E6:8F:80:A5'
const KEY = hex('231d39c1d7cc1ab1aee224cd096db932')
const SEC = 8

function receiver(store: ReplayCounterStore, clock = new FakeClock()) {
  const sink = new RecordingSink()
  const rx = new WhistleReceiver({
    devices: [{ index: SEC, config: config({ id: 'sos-2', address: SECURE, alert_kind: 'sos', key_ref: 'k' }), key: KEY.toString('hex') }],
    sink, clock, replayStore: store,
  })
  const send = (frame: Buffer) => rx.onAdvert({ ...bthomeAdvert(SECURE, frame), time: clock.now() })
  const sos = () => sink.of(Kind.SOS)
  const verified = () => sos().filter((i) => !((i.flags ?? 0) & InputFlag.UNVERIFIED))
  const unverified = () => sos().filter((i) => ((i.flags ?? 0) & InputFlag.UNVERIFIED) !== 0)
  return { sink, rx, send, clock, sos, verified, unverified }
}

/** One press per counter: packet id (object 0x00) changes with the counter, then a button press. */
function frame(counter: number): Buffer {
  return encryptBTHome(hex(`00${(counter % 256).toString(16).padStart(2, '0')} 3A01`), KEY, SECURE, counter)
}

t.test('a recorded sequence replayed after silence raises no verified alarm, and each frame counts once', async (t) => {
  const g = receiver(new MemoryReplayCounterStore())
  // The attacker records presses 1..300 while the gateway accepts them.
  const recorded: Buffer[] = []
  for (let c = 1; c <= 300; c++) {
    recorded[c] = frame(c)
    g.send(recorded[c])
    g.clock.advance(100)
  }
  t.equal(g.verified().length, 300, 'the real presses: 300 verified alarms')
  g.sink.clear()

  g.clock.advance(61_000)
  g.send(recorded[5])
  t.equal(g.sink.counted(SEC, 'ble_counter_reset'), 1, 'frame 5 after 61 s of silence passes as a restart')
  t.equal(g.unverified().length, 1, 'its alarm is raised, marked unverified')
  t.match(g.sink.of(Kind.TAMPER), [{ value: 300, flags: InputFlag.UNVERIFIED }], 'and the device reports tamper (old high-water mark 300)')
  for (let c = 6; c <= 300; c++) g.send(recorded[c])
  t.equal(g.verified().length, 0, 'no replayed frame raises a verified alarm')
  t.equal(g.unverified().length, 296, 'each replayed frame is marked unverified')
  t.equal(g.sink.counted(SEC, 'ble_unverified'), 295)

  // The recording is spent: a second pass, or another "restart", is a replay.
  const before = g.sos().length
  for (let c = 1; c <= 300; c++) g.send(recorded[c])
  g.clock.advance(120_000)
  g.send(recorded[2])
  t.equal(g.sos().length, before, 'replaying it again raises nothing')
  t.ok(g.sink.counted(SEC, 'ble_replay') >= 300, 'counted as replays')
  t.equal(g.sink.counted(SEC, 'ble_counter_reset'), 1, 'no second restart while restarted')

  // The real device, counting on past its old mark, is verified again.
  g.send(frame(301))
  t.equal(g.verified().length, 1, 'counter 301: a verified alarm')
  t.match(g.sink.of(Kind.RESTORED), [{ value: Kind.TAMPER }], 'tamper restored')
})

t.test('a button whose counter restarts after a battery change still raises its alarms; re-pairing makes them verified', async (t) => {
  const g = receiver(new MemoryReplayCounterStore())
  for (let c = 1000; c < 1010; c++) g.send(frame(c))
  g.sink.clear()
  g.clock.advance(5 * 60_000) // the battery change
  for (let c = 0; c < 3; c++) {
    g.send(frame(c))
    g.clock.advance(20_000)
  }
  t.equal(g.unverified().length, 3, 'every press after the battery change raises its alarm (unverified)')
  t.equal(g.verified().length, 0)
  t.ok(g.rx.resetReplayCounter(SECURE), 'a technician re-pairs it')
  t.match(g.sink.of(Kind.RESTORED), [{ value: Kind.TAMPER }], 'tamper restored by the re-pair')
  g.send(frame(3))
  t.equal(g.verified().length, 1, 'the next press is verified')
})

t.test('a gateway restart does not let an old frame pull the stored counter down for good', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'safehouse-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const clock = new FakeClock()
  const recorded: Buffer[] = []
  const s1 = await FileReplayCounterStore.open({ dir, clock })
  const first = receiver(s1, clock)
  for (let c = 1; c <= 300; c++) first.send((recorded[c] = frame(c)))
  await s1.close()

  // Restart, then the old frame at once.
  const s2 = await FileReplayCounterStore.open({ dir, clock })
  const second = receiver(s2, clock)
  second.send(recorded[5])
  t.equal(second.unverified().length, 1, 'right after a restart the old frame raises only an unverified alarm')
  t.equal(second.verified().length, 0)
  await s2.close()
  const file = JSON.parse(await readFile(join(dir, 'ble-replay-counters.json'), 'utf8'))
  t.same([file.counters[SECURE], file.high_water[SECURE]], [5, 300], 'the high-water mark 300 is kept beside the restarted counter')

  // Another restart: still restarted, no second restart, frames above 5 still unverified.
  const s3 = await FileReplayCounterStore.open({ dir, clock })
  const third = receiver(s3, clock)
  third.send(recorded[4])
  t.equal(third.sos().length, 0, 'frame 4 after the next restart: a replay')
  third.send(recorded[6])
  t.same([third.verified().length, third.unverified().length], [0, 1], 'frame 6: unverified')
  third.send(frame(301))
  t.equal(third.verified().length, 1, 'past the mark: verified, and back to normal')
  await s3.close()
  const after = JSON.parse(await readFile(join(dir, 'ble-replay-counters.json'), 'utf8'))
  t.same([after.counters[SECURE], after.high_water], [301, undefined])
})
