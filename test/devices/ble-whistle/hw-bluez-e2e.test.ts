/**
 * End to end on the real client stack: simulated bluetoothd -> private
 * dbus-daemon -> HwBluezDriver -> WhistleReceiver -> DeviceInputSink
 * (issue 4 §6): a press burst is one alert, two presses two alerts, expiry
 * and return, encrypted with the right key / a wrong key / a replay / a
 * downgrade, and cached devices at start raise nothing.
 */
import t, { type Test } from 'tap'
import { Kind } from '../../../protocols/event-kinds.js'
import { BLE_WHISTLE_DEFAULTS, type BleWhistleConfig } from '../../../devices/ble-whistle/config.js'
import { BTHOME_UUID } from '../../../devices/ble-whistle/raw-advert.js'
import { MemoryReplayCounterStore } from '../../../devices/ble-whistle/replay-store.js'
import { bthomeEncrypted, bthomeServiceData, BTHOME_BUTTON, type BTHomeFields } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { WhistleReceiver } from '../../../devices/ble-whistle/whistle-receiver.js'
import type { BluezSim } from '../../harness/bluez-sim.js'
import { waitFor } from '../../harness/bluez-sim-recorder.js'
import { GW, startBluezStack } from '../../harness/bluez-sim-stack.js'

const PLAIN = 'AA:BB:CC:00:40:01'
const SECURE = 'AA:BB:CC:00:40:02'
const KEY = Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex')
const WRONG = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
const DEV_PLAIN = 1
const DEV_SECURE = 2

function cfg(id: string, address: string, over: Partial<BleWhistleConfig> = {}): BleWhistleConfig {
  return { ...BLE_WHISTLE_DEFAULTS, id, kind: 'ble-whistle', address, alert_kind: 'sos', ...over }
}

async function stack(t: Test, before?: (sim: BluezSim) => void) {
  let receiver: WhistleReceiver | null = null
  const s = await startBluezStack(t, {
    before,
    handler: (ctx) => (receiver = new WhistleReceiver({
      devices: [
        { index: DEV_PLAIN, config: cfg('plain', PLAIN) },
        { index: DEV_SECURE, config: cfg('secure', SECURE, { key_ref: 'secure' }), key: KEY },
      ],
      sink: ctx.sink, clock: ctx.clock, replayStore: new MemoryReplayCounterStore(), gatewayDevice: GW,
    })),
  })
  return { ...s, receiver: receiver! }
}

const press = (packetId: number, button: number = BTHOME_BUTTON.PRESS): BTHomeFields => ({ packetId, buttons: [button], battery: 87, triggerBased: true })
const alerts = (sink: { inputs: Array<{ kind: number; device: number }> }, device: number) => sink.inputs.filter((i) => i.device === device && i.kind < 32)

/** Send a burst and wait until the receiver has seen every repeat (the handler ran). */
async function burst(t: Test, sim: BluezSim, receiver: WhistleReceiver, address: string, data: Buffer, repeats = 5): Promise<void> {
  const before = receiver.stats.adverts
  const heard = await sim.pressBurst(address, { rssi: -61, serviceData: { [BTHOME_UUID]: data } }, repeats, 20)
  t.equal(heard, repeats, 'sim heard (scanning)')
  await waitFor(() => receiver.stats.adverts >= before + repeats, 'receiver saw the whole burst')
}

t.test('plaintext: one burst = one alert, a second press = a second alert, expiry and return = a third', async (t) => {
  const { sim, sink, receiver } = await stack(t)
  await burst(t, sim, receiver, PLAIN, bthomeServiceData(press(1)))
  t.equal(alerts(sink, DEV_PLAIN).length, 1, 'burst of 5 -> one alert')
  t.match(alerts(sink, DEV_PLAIN)[0], { kind: Kind.SOS, value: 1, rssi: -61, dedupeKey: 1 })
  await burst(t, sim, receiver, PLAIN, bthomeServiceData(press(2)))
  t.equal(alerts(sink, DEV_PLAIN).length, 2, 'new packet id -> second alert')
  sim.expire(PLAIN)
  await burst(t, sim, receiver, PLAIN, bthomeServiceData(press(3)))
  t.equal(alerts(sink, DEV_PLAIN).length, 3, 'after BlueZ dropped the device, the next press still alerts')
  t.ok(sink.inputs.some((i) => i.device === DEV_PLAIN && i.kind === Kind.BATTERY && i.value === 87), 'battery into state')
})

t.test('a press cached in BlueZ before start raises nothing; the next press does', async (t) => {
  const { sim, sink, receiver } = await stack(t, (sim) => sim.addDevice(PLAIN, { rssi: -70, serviceData: { [BTHOME_UUID]: bthomeServiceData(press(7)) } }))
  t.equal(alerts(sink, DEV_PLAIN).length, 0, 'cached press: no alert')
  await burst(t, sim, receiver, PLAIN, bthomeServiceData(press(8)))
  t.equal(alerts(sink, DEV_PLAIN).length, 1)
})

t.test('encrypted: right key alerts once; wrong key, replay and downgrade are counted, never alerts', async (t) => {
  const { sim, sink, receiver } = await stack(t)
  await burst(t, sim, receiver, SECURE, bthomeEncrypted(press(1), KEY, SECURE, 10))
  t.equal(alerts(sink, DEV_SECURE).length, 1, 'right key: one alert for the burst')

  await burst(t, sim, receiver, SECURE, bthomeEncrypted(press(2), WRONG, SECURE, 11), 3)
  t.equal(alerts(sink, DEV_SECURE).length, 1, 'wrong key: no alert')
  t.ok((sink.counts.get(`${DEV_SECURE}:ble_bad_mic`) ?? 0) >= 1, 'wrong key counted')

  await burst(t, sim, receiver, SECURE, bthomeEncrypted(press(3), KEY, SECURE, 12), 2)
  t.equal(alerts(sink, DEV_SECURE).length, 2, 'next genuine press alerts')
  await burst(t, sim, receiver, SECURE, bthomeEncrypted(press(1), KEY, SECURE, 10), 2)
  t.equal(alerts(sink, DEV_SECURE).length, 2, 'replayed old packet: no alert')
  t.ok((sink.counts.get(`${DEV_SECURE}:ble_replay`) ?? 0) >= 1, 'replay counted')

  await burst(t, sim, receiver, SECURE, bthomeServiceData(press(4)), 2)
  t.equal(alerts(sink, DEV_SECURE).length, 2, 'plaintext from a keyed device: no alert')
  t.ok((sink.counts.get(`${DEV_SECURE}:ble_downgrade`) ?? 0) >= 1, 'downgrade counted')
})
