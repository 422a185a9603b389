/**
 * HwModbusLampBox against a real Modbus RTU peer on a PTY pair (issue 5 §4):
 * polling, pattern writes, every fault and its restore, wrong unit id and
 * wrong port path. Line misbehaviour and unplug: hw-modbus-line.test.ts.
 */
import t from 'tap'
import { Kind } from '../../../protocols/event-kinds.js'
import { PATTERN_CODE, CH_RED, CH_BLUE } from '../../../protocols/lamp-box/register-map.js'
import { restoreValue, FAULT_WRONG_UNIT, FAULT_PORT_OPEN } from '../../../devices/lamp-box/lamp-supervisor.js'
import { lampBoxRig } from '../../harness/lamp-box-rig.js'

t.test('polls the controller and writes alarm, acknowledged, normal', async (t) => {
  const rig = await lampBoxRig()
  t.teardown(() => rig.close())
  const { sink, slave, driver } = rig
  await driver.start(rig.abort.signal)
  await sink.waitFor('online', () => sink.lastLink?.status === 'online')
  // At open the driver pushes its pattern (the controller may have rebooted) and the watchdog.
  await sink.waitFor('initial pattern write', () => slave.model.watchdogS === 30)
  const before = slave.requests.filter((r) => r.fc === 4).length
  await sink.waitFor('several polls', () => slave.requests.filter((r) => r.fc === 4).length >= before + 3)
  t.equal(driver.status.firmware, 0x0102, 'firmware decoded')
  t.equal(driver.status.redMa, 350, 'red current decoded')
  t.equal(driver.status.mainsOk, 1)

  driver.setPattern('alarm', 'panic at this post')
  await sink.waitFor('alarm on the controller', () => slave.model.pattern === PATTERN_CODE.alarm)
  t.equal(driver.pattern, 'alarm')
  driver.setPattern('acknowledged', 'station ack')
  await sink.waitFor('acknowledged on the controller', () => slave.model.pattern === PATTERN_CODE.acknowledged)
  driver.setPattern('normal', 'station command')
  await sink.waitFor('normal again', () => slave.model.pattern === PATTERN_CODE.normal)
  t.equal(sink.n('modbus_timeout') + sink.n('modbus_crc'), 0, 'a clean line has no errors')
  t.same(sink.inputs.filter((i) => i.kind < 32), [], 'no alerts while everything is fine')
})

t.test('returns to normal after alarm_hold_s', async (t) => {
  const rig = await lampBoxRig({ alarm_hold_s: 1 })
  t.teardown(() => rig.close())
  await rig.driver.start(rig.abort.signal)
  rig.driver.setPattern('alarm', 'test')
  await rig.sink.waitFor('alarm', () => rig.slave.model.pattern === PATTERN_CODE.alarm)
  await rig.sink.waitFor('back to normal', () => rig.slave.model.pattern === PATTERN_CODE.normal, 5000)
  t.equal(rig.driver.pattern, 'normal')
})

t.test('each fault raises its kind and restores', async (t) => {
  const rig = await lampBoxRig()
  t.teardown(() => rig.close())
  const { sink, slave, driver } = rig
  const m = slave.model
  await driver.start(rig.abort.signal)
  await sink.waitFor('online', () => sink.lastLink?.status === 'online')
  const cases: Array<{ name: string; kind: number; detail: number; set: () => void; clear: () => void }> = [
    { name: 'door open', kind: Kind.DOOR_OPEN, detail: 0, set: () => { m.doorOpen = true }, clear: () => { m.doorOpen = false } },
    { name: 'mains lost', kind: Kind.MAINS_LOST, detail: 0, set: () => { m.mainsOk = false }, clear: () => { m.mainsOk = true } },
    { name: 'battery low', kind: Kind.LOW_BATTERY, detail: 0, set: () => { m.batteryPct = 12 }, clear: () => { m.batteryPct = 90 } },
    { name: 'red channel', kind: Kind.CHANNEL_FAULT, detail: CH_RED, set: () => { m.redBroken = true }, clear: () => { m.redBroken = false } },
    { name: 'blue channel', kind: Kind.CHANNEL_FAULT, detail: CH_BLUE, set: () => { m.blueBroken = true }, clear: () => { m.blueBroken = false } },
    { name: 'lamp dark', kind: Kind.LAMP_DARK, detail: 0, set: () => { m.dark = true }, clear: () => { m.dark = false } },
  ]
  for (const c of cases) {
    const raised = (): boolean => sink.inputs.some((i) => i.kind === c.kind && (c.detail === 0 || i.value === c.detail))
    c.set()
    await sink.waitFor(`${c.name} raised`, raised)
    c.clear()
    await sink.waitFor(`${c.name} restored`, () => sink.of(Kind.RESTORED, restoreValue(c.kind, c.detail)).length === 1)
    t.pass(`${c.name}: raised and restored`)
  }
  t.equal(sink.of(Kind.LOW_BATTERY)[0].value, 12, 'low battery carries the %')
  t.equal(sink.of(Kind.CHANNEL_FAULT).length, 2, 'a dark lamp is reported as dark, not as two channel faults')
})

t.test('exception responses are counted and survived', async (t) => {
  const rig = await lampBoxRig()
  t.teardown(() => rig.close())
  await rig.driver.start(rig.abort.signal)
  await rig.sink.waitFor('online', () => rig.sink.lastLink?.status === 'online')
  rig.slave.model.forceException = 4 // slave device failure
  await rig.sink.waitFor('exceptions counted', () => rig.sink.n('modbus_exception') >= 3)
  rig.slave.model.forceException = 0
  await rig.sink.waitFor('polling again', () => rig.sink.lastLink?.status === 'online' && rig.sink.n('modbus_exception') >= 3)
  t.pass('survives exception replies')
})

t.test('wrong unit id: says which unit answered and which did not', async (t) => {
  const rig = await lampBoxRig({ unit_id: 3, probe_unit_ids: [1, 2, 3, 4] }, 1)
  t.teardown(() => rig.close())
  const { sink, driver } = rig
  await driver.start(rig.abort.signal)
  await sink.waitFor('probe diagnosis', () => driver.diagnosis.includes('answered'))
  t.match(driver.diagnosis, /unit 3 did not answer; unit 1 answered/)
  t.match(sink.lastLink?.reason ?? '', /unit 3 did not answer; unit 1 answered/)
  t.equal(sink.lastLink?.status, 'fault')
  t.equal(sink.of(Kind.DEVICE_FAULT, FAULT_WRONG_UNIT).length, 1, 'one device fault')
  t.ok(sink.n('modbus_timeout') >= 2, 'timeouts counted')
})

t.test('nothing on the line: says nothing answered', async (t) => {
  const rig = await lampBoxRig({ unit_id: 1, probe_unit_ids: [1, 2] }, 1)
  t.teardown(() => rig.close())
  rig.slave.mode = 'silent'
  await rig.driver.start(rig.abort.signal)
  await rig.sink.waitFor('diagnosis', () => rig.driver.diagnosis !== '')
  t.match(rig.driver.diagnosis, /unit 1 did not answer; nothing answered on unit 2 either/)
  await rig.sink.waitFor('missing', () => rig.sink.of(Kind.MISSING).length === 1)
})

t.test('wrong port path: names the port and lists the ports present', async (t) => {
  const rig = await lampBoxRig({ port: '/dev/ttyNOPE-lampbox' })
  t.teardown(() => rig.close())
  await rig.driver.start(rig.abort.signal)
  t.equal(rig.sink.lastLink?.status, 'fault', 'start() resolves; the port is a fault, not a crash')
  t.match(rig.sink.lastLink?.reason ?? '', /cannot open serial port \/dev\/ttyNOPE-lampbox .*Serial ports present: /)
  t.equal(rig.sink.of(Kind.DEVICE_FAULT, FAULT_PORT_OPEN).length, 1)
})

t.test('generic DI/DO module: coils written, inputs polled', async (t) => {
  const rig = await lampBoxRig({ profile: 'generic-dido', unit_id: 5, generic: { red_coil: 4, blue_coil: 3, blink_ms: 250 } }, 5)
  t.teardown(() => rig.close())
  const { sink, slave, driver } = rig
  const m = slave.model
  await driver.start(rig.abort.signal)
  await sink.waitFor('online', () => sink.lastLink?.status === 'online')
  await sink.waitFor('normal: both coils on', () => m.coils[4] === 1 && m.coils[3] === 1)
  t.ok(slave.requests.some((r) => r.fc === 15 && r.addr === 3), 'adjacent coils in one FC15 from the lower address')
  t.ok(slave.requests.some((r) => r.fc === 2), 'inputs polled with FC02')
  driver.setPattern('alarm', 'panic')
  await sink.waitFor('red then blue', () => m.coils[4] === 1 && m.coils[3] === 0)
  await sink.waitFor('blue then red', () => m.coils[4] === 0 && m.coils[3] === 1)
  driver.setPattern('normal', 'cmd')
  m.doorOpen = true
  await sink.waitFor('door open', () => sink.of(Kind.DOOR_OPEN).length === 1)
  m.doorOpen = false
  await sink.waitFor('door closed', () => sink.of(Kind.RESTORED, restoreValue(Kind.DOOR_OPEN, 0)).length === 1)
})
