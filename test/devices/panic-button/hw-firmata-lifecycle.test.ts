/**
 * Board life cycle on the real stack (issue 3 §4): unplug -> fault within 2 s,
 * other boards unaffected; replug -> reopened with backoff; a board that never
 * answers the handshake; a wrong port path.
 */
import t from 'tap'
import pino from 'pino'
import { Kind } from '../../../protocols/event-kinds.js'
import { systemClock } from '../../../devices/time/clock.js'
import { PtyPair } from '../../harness/pty-pair.js'
import { FirmataPeer } from '../../harness/firmata-peer.js'
import { RecordingSink } from './recording-sink.js'
import { FirmataPanicButtonDriver } from '../../../devices/panic-button/hw-firmata.js'
import { describeMissingPort } from '../../../devices/panic-button/firmata-board-events.js'
import { panicButtonDefaults } from '../../../devices/panic-button/config.js'
import { online, rig, testBoard } from './firmata-rig.js'

t.test('unplug -> fault within 2 s, other board unaffected; replug -> back online', async (t) => {
  const pa = await new PtyPair('panic-a').open()
  const pb = await new PtyPair('panic-b').open()
  let peerA = await FirmataPeer.open(pa.b)
  const peerB = await FirmataPeer.open(pb.b)
  const sink = new RecordingSink()
  const driver = new FirmataPanicButtonDriver({
    boards: [{ ...testBoard(pa.a), id: 'a' }, { ...testBoard(pb.a), id: 'b' }],
    buttons: [
      { index: 0, config: panicButtonDefaults('btn-a', { driver: 'firmata', board: 'a', pin: 2 }) },
      { index: 1, config: panicButtonDefaults('btn-b', { driver: 'firmata', board: 'b', pin: 2 }) },
    ],
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  t.teardown(async () => {
    await driver.stop()
    await peerA.close(); await peerB.close()
    await pa.close(); await pb.close()
  })
  await driver.start(new AbortController().signal)
  await sink.until(() => sink.lastLink(0)?.status === 'online' && sink.lastLink(1)?.status === 'online', 'both online')

  const t0 = Date.now()
  await pa.unplug()
  await sink.until(() => sink.lastLink(0)?.status === 'fault', 'board a fault', 5000)
  t.ok(Date.now() - t0 < 2000, `fault reported within 2 s (${Date.now() - t0} ms)`)
  t.equal(sink.inputs.filter((i) => i.device === 0 && i.kind === Kind.DEVICE_FAULT).length, 1, 'one DEVICE_FAULT')
  t.equal(sink.lastLink(1)?.status, 'online', 'board b unaffected')
  await peerA.close()

  // "online" is reported once the driver has asked for pin reports; wait until the peer has them,
  // or the press below would never be sent (a race seen on a loaded CI machine).
  await peerB.until(() => peerB.isReportingDigital(2), 'board b reporting pin 2')
  peerB.setDigital(2, 0)
  await sink.until(() => sink.names(1).includes('panic'), 'board b still delivers presses')
  peerB.setDigital(2, 1)

  await new Promise((r) => setTimeout(r, 1500)) // a few failed reopen attempts
  t.equal(sink.inputs.filter((i) => i.device === 0 && i.kind === Kind.DEVICE_FAULT).length, 1, 'retries do not repeat DEVICE_FAULT')
  t.match(sink.lastLink(0)?.reason, /not found; serial ports present/, 'retry reason names the missing port')
  t.ok(driver.boards()[0].reconnects >= 1, 'reopen attempted')

  await pa.replug()
  peerA = await FirmataPeer.open(pa.b)
  await sink.until(() => sink.lastLink(0)?.status === 'online', 'board a back online', 8000)
  t.ok(sink.inputs.some((i) => i.device === 0 && i.kind === Kind.RESTORED && i.value === Kind.DEVICE_FAULT), 'fault restored')
  await peerA.until(() => peerA.isReportingDigital(2), 'pin reporting after replug')
  peerA.setDigital(2, 0)
  await sink.until(() => sink.names(0).includes('panic'), 'press after replug')
})

t.test('a hung board (port open, no bytes) is a fault too', async (t) => {
  const r = await rig(t, [{ id: 'b1', pin: 2 }], { board: { dead_after_ms: 800, liveness_interval_ms: 200 } })
  await online(r)
  r.peer!.mute = true
  const t0 = Date.now()
  await r.sink.until(() => r.sink.lastLink(0)?.status === 'fault', 'fault', 5000)
  t.ok(Date.now() - t0 < 2000, 'within 2 s')
  // A mute board fails two checks at once: it is silent, and it confirms no pin (issue 11's
  // confirmation rounds). Both have the same 800 ms bound; on a loaded machine either tick may come
  // first, and both reasons are true, so either may name the fault.
  t.match(r.sink.lastLink(0)?.reason, /silent for \d+ ms|has not confirmed D2's setup for \d+ ms/)
  t.ok(r.peer!.versionQueries > 0, 'the driver pinged with REPORT_VERSION before giving up')
  r.peer!.mute = false
  await r.sink.until(() => r.sink.lastLink(0)?.status === 'online', 'back after the board answers again', 8000)
})

t.test('a board that never answers the handshake: clear error after the timeout, retried', async (t) => {
  const r = await rig(t, [{ id: 'b1', pin: 2 }], { board: { handshake_timeout_ms: 800 }, peer: { silent: true } })
  await r.driver.start(new AbortController().signal)
  await r.sink.until(() => r.sink.lastLink(0)?.status === 'fault', 'handshake fault', 5000)
  t.match(r.sink.lastLink(0)?.reason, /did not answer the Firmata handshake within 800 ms \(no reply at all\): flash StandardFirmata/)
  t.ok(r.peer!.received.includes(0xf9), 'the driver asked for the version')
  // the board starts answering: the next attempt succeeds
  r.peer!.silent = false
  await r.sink.until(() => r.sink.lastLink(0)?.status === 'online', 'online after retry', 8000)
})

t.test('wrong port path: error names the port and lists the ports present', async (t) => {
  const sink = new RecordingSink()
  const driver = new FirmataPanicButtonDriver({
    boards: [testBoard('/dev/ttyDOES-NOT-EXIST')],
    buttons: [{ index: 0, config: panicButtonDefaults('b1', { driver: 'firmata' }) }],
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  t.teardown(() => driver.stop())
  await driver.start(new AbortController().signal)
  await sink.until(() => sink.lastLink(0)?.status === 'fault', 'fault')
  t.match(sink.lastLink(0)?.reason, /^serial port \/dev\/ttyDOES-NOT-EXIST not found; serial ports present: .+\. Check/)
  t.equal(describeMissingPort('/dev/x', [{ path: '/dev/ttyACM0', manufacturer: 'Arduino' }, { path: '/dev/ttyUSB0' }]),
    'serial port /dev/x not found; serial ports present: /dev/ttyACM0 (Arduino), /dev/ttyUSB0. ' +
    'Check the board\'s USB cable and boards[].port in the config (prefer /dev/serial/by-id/... names).')
})

t.test('config errors: unknown board, pin that does not exist', async (t) => {
  t.throws(() => new FirmataPanicButtonDriver({
    boards: [testBoard('/dev/null')],
    buttons: [{ index: 0, config: panicButtonDefaults('b1', { driver: 'firmata', board: 'nope' }) }],
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink: new RecordingSink() }), /board "nope" is not in the boards: section \(known: main\)/)
  const r = await rig(t, [{ id: 'ok', pin: 2 }, { id: 'bad', pin: 99 }])
  await r.driver.start(new AbortController().signal)
  await r.sink.until(() => r.sink.lastLink(1)?.status === 'fault' && r.sink.lastLink(0)?.status === 'online', 'bad pin fault, good online')
  t.match(r.sink.lastLink(1)?.reason, /pin D99 does not exist on board "main"/)
})
