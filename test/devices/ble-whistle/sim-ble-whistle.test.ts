/**
 * The simulated BLE transport twin and its encoders: async start, cached
 * devices first (cached only), press bursts spread over ~100 ms on the
 * injected clock, one reused RawAdvert; encoders checked against the
 * bthome.io encryption example and round-tripped through the decoders.
 */
import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { APPLE_COMPANY_ID, BTHOME_UUID } from '../../../devices/ble-whistle/raw-advert.js'
import {
  SimBleWhistle, bthomeEncryptObjects, bthomeEncrypted, bthomeServiceData, ibeaconManufacturerData, BTHOME_BUTTON,
} from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { BTHomeReading, decodeBTHome } from '../../../protocols/ble/bthome.js'
import { IBeaconReading, decodeIBeacon } from '../../../protocols/ble/ibeacon.js'
import { RecordingHandler, RecordingSink, testContext } from '../../harness/bluez-sim-recorder.js'

const GW = 3
const A = 'AA:BB:CC:00:50:01'

t.test('bthome.io encryption example: same ciphertext and MIC', async (t) => {
  // https://bthome.io/encryption: key 231d39c1..., MAC 54:48:E6:8F:80:A5, counter bytes 00 11 22 33,
  // objects 02 CA09 (temperature) 03 BF13 (humidity) -> ciphertext a47266c95f73, MIC 78237214.
  const out = bthomeEncryptObjects(Buffer.from('02ca0903bf13', 'hex'), Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex'), '54:48:E6:8F:80:A5', 0x33221100)
  t.equal(out.toString('hex'), '41' + 'a47266c95f73' + '00112233' + '78237214')
})

t.test('encoders round-trip through the protocol decoders', async (t) => {
  const r = new BTHomeReading()
  const plain = bthomeServiceData({ packetId: 9, battery: 77, buttons: [BTHOME_BUTTON.NONE, BTHOME_BUTTON.LONG], triggerBased: true })
  t.ok(decodeBTHome(plain, r, null, null).ok)
  t.match(r, { packetId: 9, battery: 77, buttonCount: 2, triggerBased: true, encrypted: false })
  t.same([...r.buttons.subarray(0, 2)], [0x00, 0x04])
  const key = Buffer.alloc(16, 7)
  const enc = bthomeEncrypted({ packetId: 1, buttons: [BTHOME_BUTTON.PRESS] }, key, A, 5)
  t.ok(decodeBTHome(enc, r, key, Buffer.from('AABBCC005001', 'hex')).ok)
  t.match(r, { encrypted: true, counter: 5, packetId: 1 })
  const ib = new IBeaconReading()
  t.ok(decodeIBeacon(ibeaconManufacturerData('e2c56db5-dffb-48d2-b060-d0f5a71096e0', 1, 2, -60), ib).ok)
  t.match(ib, { major: 1, minor: 2, measuredPower: -60 })
})

t.test('twin: async start, cached first, bursts over ~100 ms on the clock, one reused RawAdvert', async (t) => {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const handler = new RecordingHandler()
  const seen = new Set<object>()
  const sim = new SimBleWhistle(testContext(sink, clock), { onAdvert: (a) => { seen.add(a); handler.onAdvert(a) } }, { gatewayDevice: GW, openDelayMs: 10 })
  sim.cache(A, { rssi: -70, serviceData: { [BTHOME_UUID]: bthomeServiceData({ packetId: 1, buttons: [1] }) } })
  t.equal(sim.advertise(A, { rssi: -1 }), false, 'not started: nothing heard')
  const started = sim.start(new AbortController().signal)
  t.equal(sink.lastLink(GW)?.status, 'starting')
  clock.advance(10)
  await started
  t.equal(sink.lastLink(GW)?.status, 'online')
  t.same(handler.adverts.map((a) => [a.address, a.cached]), [[A, true]], 'cached device delivered cached only')

  sim.pressBurst(A, { packetId: 2, battery: 90 })
  t.equal(handler.adverts.length, 2, 'first repeat at once')
  clock.advance(99)
  t.equal(handler.adverts.length, 5)
  clock.advance(1)
  t.equal(handler.adverts.length, 6, 'five repeats within 100 ms')
  const burst = handler.adverts.slice(1)
  t.ok(burst.every((a) => !a.cached && a.rssi === -60 && a.serviceData!.get(BTHOME_UUID)!.equals(burst[0].serviceData!.get(BTHOME_UUID)!)))
  t.equal(burst[4].time - burst[0].time, 100)

  t.ok(sim.beacon(A, 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', 1, 2))
  t.ok(handler.adverts.at(-1)!.manufacturerData!.has(APPLE_COMPANY_ID))
  t.equal(handler.adverts.at(-1)!.serviceData, null)
  t.ok(sim.battery(A, 50, 3))
  t.equal(seen.size, 1, 'one RawAdvert object reused for every delivery')

  sim.pressBurst(A, { packetId: 4 })
  await sim.stop()
  const n = handler.adverts.length
  clock.advance(1000)
  t.equal(handler.adverts.length, n, 'stop cancels pending repeats')
  t.equal(sink.lastLink(GW)?.status, 'offline')
  t.equal(clock.pendingTimers(), 0)
})
