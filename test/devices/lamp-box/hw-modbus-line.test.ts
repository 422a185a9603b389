/**
 * HwModbusLampBox on a bad line (issue 5 §3-4): CRC garbage, partial frames,
 * noise, a slave that stops answering, unplug and replug, a seeded fuzz of
 * random bytes on the wire, and writes overtaking polls.
 */
import t from 'tap'
import { Kind } from '../../../protocols/event-kinds.js'
import { PATTERN_CODE } from '../../../protocols/lamp-box/register-map.js'
import { restoreValue, FAULT_PORT_LOST } from '../../../devices/lamp-box/lamp-supervisor.js'
import { lampBoxRig, type LampBoxRig } from '../../harness/lamp-box-rig.js'

async function onlineRig(t: { teardown(fn: () => unknown): void }, over = {}, seed = 1): Promise<LampBoxRig> {
  const rig = await lampBoxRig(over, 1, seed)
  t.teardown(() => rig.close())
  await rig.driver.start(rig.abort.signal)
  await rig.sink.waitFor('online', () => rig.sink.lastLink?.status === 'online')
  return rig
}

const polls = (rig: LampBoxRig): number => rig.slave.requests.filter((r) => r.fc === 4).length

/** After misbehaviour: the line is clean again and polls succeed. */
async function recovers(rig: LampBoxRig): Promise<void> {
  rig.slave.mode = 'normal'
  const before = polls(rig)
  await rig.sink.waitFor('polls again', () => polls(rig) >= before + 3)
  await rig.sink.waitFor('online', () => rig.sink.lastLink?.status === 'online')
}

t.test('CRC errors are counted, not fatal', async (t) => {
  const rig = await onlineRig(t)
  rig.slave.mode = 'bad-crc'
  await rig.sink.waitFor('crc errors', () => rig.sink.n('modbus_crc') >= 3)
  await recovers(rig)
  t.equal(rig.sink.of(Kind.DEVICE_FAULT).length, 0, 'not a device fault')
})

t.test('partial frames time out, are counted, and do not poison the next reply', async (t) => {
  const rig = await onlineRig(t)
  rig.slave.mode = 'partial'
  await rig.sink.waitFor('timeouts', () => rig.sink.n('modbus_timeout') >= 2)
  rig.slave.mode = 'normal'
  const crc = rig.sink.n('modbus_crc')
  await recovers(rig)
  rig.driver.setPattern('alarm', 'after partial frames')
  await rig.sink.waitFor('alarm written', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  // The half reply left in the master's buffer is dropped when the next request goes out.
  t.equal(rig.sink.n('modbus_crc'), crc, 'no CRC error from leftover bytes')
})

t.test('noise before replies is skipped or counted', async (t) => {
  const rig = await onlineRig(t, {}, 7)
  rig.slave.mode = 'noise'
  const before = polls(rig)
  await rig.sink.waitFor('polls through noise', () => polls(rig) >= before + 10)
  await recovers(rig)
  t.ok(rig.sink.lastLink?.status === 'online')
  // Issue 11 §5: survived AND counted (1-8 random bytes before each of >= 10 replies).
  t.ok(rig.sink.n('modbus_garbage_bytes') >= 10, `garbage counted (${rig.sink.n('modbus_garbage_bytes')} bytes)`)
})

t.test('a slave that stops answering: timeouts, then missing, then restored', async (t) => {
  const rig = await onlineRig(t)
  rig.slave.mode = 'silent'
  await rig.sink.waitFor('missing', () => rig.sink.of(Kind.MISSING).length === 1, 6000)
  t.ok(rig.sink.n('modbus_timeout') >= 2, 'timeouts counted')
  t.match(rig.driver.diagnosis, /unit 1 on .* stopped answering/)
  rig.slave.mode = 'normal'
  await rig.sink.waitFor('restored', () => rig.sink.of(Kind.RESTORED, restoreValue(Kind.MISSING, 0)).length === 1)
  t.equal(rig.driver.diagnosis, '')
})

t.test('unplug: fault within 2 s; replug: reopened and the pattern rewritten', async (t) => {
  const rig = await onlineRig(t, { poll_ms: 1000 })
  rig.driver.setPattern('alarm', 'before unplug')
  await rig.sink.waitFor('alarm', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  const t0 = Date.now()
  await rig.pty.unplug()
  await rig.sink.waitFor('fault', () => rig.sink.of(Kind.DEVICE_FAULT, FAULT_PORT_LOST).length === 1, 4000)
  const faultMs = Date.now() - t0
  t.ok(faultMs < 2000, `fault reported ${faultMs} ms after unplug (< 2000)`)
  t.equal(rig.sink.lastLink?.status, 'fault')
  // The controller lost power with the line: on reconnect the driver must push its pattern again.
  rig.slave.model.reboot()
  await rig.pty.replug()
  await rig.slave.reopen()
  await rig.sink.waitFor('restored', () => rig.sink.of(Kind.RESTORED, restoreValue(Kind.DEVICE_FAULT, FAULT_PORT_LOST)).length === 1, 10000)
  await rig.sink.waitFor('alarm rewritten', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  t.equal(rig.sink.lastLink?.status, 'online')
  t.equal(rig.sink.of(Kind.DEVICE_FAULT).length, 1, 'one fault per outage, however many reopen attempts')
})

t.test('seeded fuzz: random bytes on the wire are survived and counted', async (t) => {
  const rig = await onlineRig(t, { timeout_ms: 120 }, 20251124)
  rig.slave.mode = 'garbage'
  const errors = (): number => rig.sink.n('modbus_timeout') + rig.sink.n('modbus_crc') + rig.sink.n('modbus_bad_frame') + rig.sink.n('modbus_exception')
  await rig.sink.waitFor('40 garbled transactions', () => errors() >= 40, 20000)
  // Raw noise between transactions, too.
  rig.slave.inject(Buffer.from([0x01, 0x04, 0x18, 0xff, 0x00, 0x01, 0x83, 0x02]))
  await recovers(rig)
  rig.driver.setPattern('test', 'after fuzz')
  await rig.sink.waitFor('test pattern', () => rig.slave.model.pattern === PATTERN_CODE.test)
  t.ok(errors() >= 40, `every garbled reply counted (${errors()})`)
  t.equal(rig.sink.of(Kind.DEVICE_FAULT).length, 0)
})

t.test('an alarm waits for at most the one transaction in flight', async (t) => {
  const rig = await onlineRig(t, { poll_ms: 100, timeout_ms: 1000 })
  rig.slave.replyDelayMs = 150 // every poll takes 150 ms
  await new Promise((r) => setTimeout(r, 400))
  const requested = performance.now()
  let arrived = 0
  rig.slave.onPatternWrite = (p, at) => { if (p === PATTERN_CODE.alarm && !arrived) arrived = at }
  rig.driver.setPattern('alarm', 'panic')
  await rig.sink.waitFor('alarm write on the wire', () => arrived > 0)
  const waited = arrived - requested
  // A poll the driver wrote just before setPattern reaches the slave (same process, other end of
  // the PTY) a turn later, i.e. just after `requested`: that is the one transaction in flight.
  // Any poll scheduled after setPattern would come after it, >= replyDelayMs (150 ms) later.
  const IN_TRANSIT_MS = 50
  const pollsBetween = rig.slave.requests.filter((r) => r.fc === 4 && r.at > requested + IN_TRANSIT_MS && r.at < arrived).length
  t.equal(pollsBetween, 0, 'no poll was sent between setPattern and the write')
  t.ok(waited < 1000, `write on the wire ${waited.toFixed(0)} ms after setPattern`)
})
