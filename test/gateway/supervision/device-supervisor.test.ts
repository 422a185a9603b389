import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { DeviceTable } from '../../../gateway/core/device-table.js'
import { TimerWheel } from '../../../gateway/core/timer-wheel.js'
import { Kind, EventClass } from '../../../protocols/event-kinds.js'
import { DeviceSupervisor } from '../../../gateway/supervision/device-supervisor.js'
import type { CoreEvent } from '../../../gateway/core/event-core.js'

function rig() {
  const clock = new FakeClock()
  const devices = new DeviceTable([
    { id: 'whistle', kind: 'ble-whistle', label: '', location: '', supervision_s: 60 },
    { id: 'button', kind: 'panic-button', label: '', location: '', supervision_s: 0 },
    { id: 'lamp', kind: 'lamp-box', label: '', location: '', supervision_s: 5 },
  ], { keyedDedupeMs: 0, unkeyedDedupeMs: 0 })
  const wheel = new TimerWheel(clock, 250)
  const inputs: { device: number; kind: number; value: number }[] = []
  const sup = new DeviceSupervisor(devices, wheel, clock, {
    input: (device, kind, value) => { inputs.push({ device, kind, value }) },
    linkStatus: () => {}, count: () => {},
  })
  wheel.start()
  sup.start()
  const ev = (device: number, kind: number): CoreEvent => ({ device, kind, cls: kind < 32 ? EventClass.ALERT : EventClass.STATE, value: 1, hwTime: clock.now(), rssi: NaN, seq: 0, sentTime: clock.now(), test: false, payload: Buffer.alloc(0), payloadLength: 0, retainPayload: () => Buffer.alloc(0) })
  return { clock, sup, inputs, ev }
}

t.test('a silent device is missing within its interval plus one tick, restored on its next input', async (t) => {
  const { clock, sup, inputs, ev } = rig()
  clock.advance(59_000)
  t.same(inputs, [], 'nothing before the interval')
  clock.advance(1_250)
  t.same(inputs, [{ device: 1, kind: Kind.MISSING, value: 60 }], 'missing after 60 s (+ one 250 ms tick at most)')
  clock.advance(600_000)
  t.equal(inputs.length, 1, 'reported once, not every tick')
  sup.onEvent(ev(1, Kind.ADVERTISEMENT))
  t.same(inputs[1], { device: 1, kind: Kind.RESTORED, value: Kind.MISSING }, 'restored on the next advertisement')
})

t.test('heartbeats keep a device present without re-arming per event', async (t) => {
  const { clock, sup, inputs, ev } = rig()
  for (let i = 0; i < 20; i++) {
    clock.advance(30_000)
    sup.onEvent(ev(1, Kind.ADVERTISEMENT))
  }
  t.same(inputs, [], 'never missing while heard every 30 s')
  clock.advance(61_000)
  t.equal(inputs.length, 1)
  t.equal(inputs[0].kind, Kind.MISSING)
})

t.test('unsupervised devices and the lamp box (self-supervised) are never reported by the core', async (t) => {
  const { clock, inputs } = rig()
  clock.advance(3_600_000)
  t.same(inputs.map((i) => i.device), [1], 'only the whistle')
})
