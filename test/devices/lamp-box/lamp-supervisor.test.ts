import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import * as M from '../../../protocols/lamp-box/register-map.js'
import {
  LampSupervisor, restoreValue, STALL_MS, FAULT_PORT_LOST, FAULT_PORT_OPEN, LAMP_FAULT_PATTERN, LAMP_FAULT_STALLED,
} from '../../../devices/lamp-box/lamp-supervisor.js'
import { RecordingSink } from '../../harness/lamp-box-sink.js'

function setup(over: Partial<{ confirmPolls: number; supervisionMs: number }> = {}) {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const sup = new LampSupervisor({
    device: 4, sink, clock, supervisionMs: over.supervisionMs ?? 5000, confirmPolls: over.confirmPolls ?? 2,
    minMa: 20, maxMa: 1500, batteryLowPct: 30,
  })
  const s = M.newLampBoxStatus()
  // A healthy controller running "normal".
  Object.assign(s, { statusBits: M.STATUS_MAINS_OK, lampOutput: 3, activePattern: 1, redMa: 350, blueMa: 340, mainsOk: 1, doorOpen: 0, batteryPct: 90, heartbeat: 1 })
  sup.start()
  /** One poll every second, heartbeat ticking. */
  const poll = (steady = M.CH_BOTH, commanded = 1): void => {
    clock.advance(1000)
    s.heartbeat = (s.heartbeat + 1) & 0xffff
    sup.pollOk(s, steady, commanded)
    sup.check()
  }
  const alerts = () => sink.inputs.filter((i) => i.kind < 32).map((i) => `${i.name}:${i.value}`)
  return { clock, sink, sup, s, poll, alerts }
}

t.test('healthy polls: online, heartbeat and battery state, no alerts', async (t) => {
  const { sink, poll, alerts } = setup()
  for (let i = 0; i < 5; i++) poll()
  t.same(alerts(), [])
  t.equal(sink.lastLink?.status, 'online')
  t.equal(sink.of(Kind.HEARTBEAT).length, 1, 'heartbeat state at most every 30 s')
  t.same(sink.of(Kind.BATTERY).map((i) => i.value), [90])
  t.equal(sink.inputs[0].device, 4)
})

t.test('missed polls -> MISSING after the supervision time, RESTORED on the next good poll', async (t) => {
  const { clock, sink, sup, poll, alerts } = setup({ supervisionMs: 5000 })
  poll()
  for (let i = 0; i < 4; i++) { clock.advance(1000); sup.pollFailed('modbus_timeout'); sup.check() }
  t.same(alerts(), [], 'not yet: 4 s silent')
  clock.advance(1000); sup.check()
  t.same(alerts(), ['missing:5'])
  clock.advance(10_000); sup.check()
  t.equal(sink.of(Kind.MISSING).length, 1, 'raised once')
  t.equal(sink.n('modbus_timeout'), 4)
  poll()
  t.same(sink.of(Kind.RESTORED).map((i) => i.value), [restoreValue(Kind.MISSING, 0)])
})

t.test('each condition needs confirm polls to raise and to restore; the door alerts at once', async (t) => {
  const { s, poll, alerts } = setup({ confirmPolls: 3 })
  poll()
  s.mainsOk = 0; s.statusBits &= ~M.STATUS_MAINS_OK
  s.doorOpen = 1
  poll()
  t.same(alerts(), ['door_open:NaN'], 'door on the first poll')
  poll(); poll()
  t.same(alerts(), ['door_open:NaN', 'mains_lost:90'], 'mains after 3 polls, with the battery %')
  s.mainsOk = 1
  poll(); poll()
  s.mainsOk = 0
  poll()
  s.mainsOk = 1
  poll(); poll()
  t.equal(alerts().length, 2, 'a flicker in the middle restarts the count')
  poll()
  t.same(alerts().slice(2), [`restored:${restoreValue(Kind.MAINS_LOST, 0)}`])
})

t.test('battery low with hysteresis', async (t) => {
  const { s, poll, alerts } = setup({ confirmPolls: 1 })
  s.batteryPct = 30
  poll()
  t.same(alerts(), ['low_battery:30'])
  s.batteryPct = 34
  poll()
  t.equal(alerts().length, 1, 'not restored within 5 % of the threshold')
  s.batteryPct = 36
  poll()
  t.same(alerts().slice(1), [`restored:${restoreValue(Kind.LOW_BATTERY, 0)}`])
  s.statusBits |= M.STATUS_BATTERY_LOW
  poll()
  t.equal(alerts()[2], 'low_battery:36', 'the controller bit alone raises it')
})

t.test('channel faults by bit, by current window, and a dark lamp reported once', async (t) => {
  const { s, poll, alerts } = setup({ confirmPolls: 1 })
  s.redMa = 3 // open string while "normal" lights red steadily
  poll()
  t.same(alerts(), [`channel_fault:${M.CH_RED}`])
  s.redMa = 350
  poll()
  s.blueMa = 2600 // short circuit
  poll()
  t.same(alerts().slice(1), [`restored:${restoreValue(Kind.CHANNEL_FAULT, M.CH_RED)}`, `channel_fault:${M.CH_BLUE}`])
  s.blueMa = 340
  poll()
  s.redMa = 0; s.blueMa = 0
  poll()
  t.same(alerts().slice(4), ['lamp_dark:1'], 'both out: dark (value = pattern), not two channel faults')
  s.redMa = 350; s.blueMa = 340
  poll()
  t.same(alerts().slice(5), [`restored:${restoreValue(Kind.LAMP_DARK, 0)}`])
  s.statusBits |= M.STATUS_BLUE_FAULT
  poll(-1)
  t.same(alerts().slice(6), [`channel_fault:${M.CH_BLUE}`], 'the controller bit counts while blinking too')
})

t.test('blinking or just-changed patterns skip the current checks', async (t) => {
  const { s, poll, alerts } = setup({ confirmPolls: 1 })
  s.redMa = 0
  s.activePattern = 2
  poll(-1, 2)
  poll(-1, 2)
  t.same(alerts(), [])
  s.activePattern = 4
  poll(M.CH_BLUE, 4) // acknowledged lights only blue: red dark is fine
  t.same(alerts(), [])
})

t.test('pattern not applied and controller stall -> LAMP_FAULT with detail', async (t) => {
  const { s, poll, alerts, sup } = setup({ confirmPolls: 1 })
  s.activePattern = 1
  poll(-1, 2); poll(-1, 2)
  t.same(alerts(), [], 'the driver gets rewrites first')
  poll(-1, 2)
  t.same(alerts(), [`lamp_fault:${LAMP_FAULT_PATTERN}`])
  const frozen = s.heartbeat
  const n = Math.ceil(STALL_MS / 1000) + 2
  for (let i = 0; i < n; i++) { poll(); s.heartbeat = frozen }
  t.ok(alerts().includes(`lamp_fault:${LAMP_FAULT_STALLED}`), 'frozen heartbeat')
  t.ok(sup.activeTroubles().includes(restoreValue(Kind.LAMP_FAULT, LAMP_FAULT_STALLED)))
})

t.test('link faults: one DEVICE_FAULT per outage, restored by the first good poll', async (t) => {
  const { sink, sup, poll, alerts } = setup()
  poll()
  sup.linkFault(FAULT_PORT_LOST, 'unplugged')
  sup.linkFault(FAULT_PORT_OPEN, 'cannot open /dev/ttyUSB0')
  t.same(alerts(), [`device_fault:${FAULT_PORT_LOST}`])
  t.equal(sink.lastLink?.status, 'fault')
  t.equal(sink.lastLink?.reason, 'cannot open /dev/ttyUSB0')
  poll()
  t.same(alerts().slice(1), [`restored:${restoreValue(Kind.DEVICE_FAULT, FAULT_PORT_LOST)}`])
  t.equal(sink.lastLink?.status, 'online')
  sup.stopped()
  t.equal(sink.lastLink?.status, 'offline')
})

t.test('supervision_s 0 never raises MISSING', async (t) => {
  const { clock, sup, alerts } = setup({ supervisionMs: 0 })
  clock.advance(3_600_000); sup.check()
  t.same(alerts(), [])
})
