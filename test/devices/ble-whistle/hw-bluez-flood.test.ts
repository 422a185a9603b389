/**
 * A flood of 10,000 advertisements per second (a busy street: phones, tags,
 * beacons) with one real press in it (issue 4 §6). The simulated bluetoothd
 * runs in a child process; the driver receives through the private
 * dbus-daemon. Asserts: the press arrives, live; every flood advert is
 * delivered (no duty cycling, no drops). No timing asserts: a loaded 2-core
 * machine may lag, but must not lose anything.
 */
import t from 'tap'
import { HwBluezDriver } from '../../../devices/ble-whistle/hw-bluez.js'
import { BTHOME_UUID, type AdvertHandler, type RawAdvert } from '../../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { PrivateBus } from '../../harness/bluez-sim-bus.js'
import { BluezSimProcess } from '../../harness/bluez-sim-process.js'
import { FLOOD_COMPANY_ID } from '../../harness/bluez-sim.js'
import { RecordingSink, testContext, waitFor } from '../../harness/bluez-sim-recorder.js'
import { bluezTestOptions } from '../../harness/bluez-sim-stack.js'

const BUTTON = 'AA:BB:CC:00:30:01'

class FloodCounter implements AdvertHandler {
  flood = 0
  press: Buffer[] = []
  pressCached = 0
  onAdvert(a: RawAdvert): void {
    if (a.manufacturerData?.has(FLOOD_COMPANY_ID)) { this.flood++; return }
    if (a.address === BUTTON) {
      if (a.cached) this.pressCached++
      else this.press.push(Buffer.from(a.serviceData!.get(BTHOME_UUID)!))
    }
  }
}

t.test('10,000 adverts/s for 1.5 s with one press: the press arrives and nothing is lost', async (t) => {
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSimProcess(bus.address).open()
  t.teardown(() => sim.close())
  const handler = new FloodCounter()
  const sink = new RecordingSink()
  const driver = new HwBluezDriver(testContext(sink), handler, bluezTestOptions(bus.address))
  t.teardown(() => driver.stop())
  await driver.start(new AbortController().signal)
  t.equal(driver.status().state, 'scanning')

  const press = bthomeServiceData({ packetId: 42, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true })
  const flood = sim.flood({ perSecond: 10_000, durationMs: 1500, devices: 200 })
  await new Promise((r) => setTimeout(r, 600))
  const sentAt = await sim.pressBurst(BUTTON, { rssi: -58, serviceData: { [BTHOME_UUID]: press } }, 5, 25)
  const { sent, heard, ms } = await flood
  t.equal(sentAt.length, 5, 'the sim sent the whole burst')
  t.ok(sent >= 10_000, `flood sent ${sent} adverts`)
  await waitFor(() => handler.press.length === 5, 'all 5 repeats of the press delivered', 20_000)
  t.ok(handler.press.every((b) => b.equals(press)), 'press payload intact')
  t.equal(handler.pressCached, 0, 'press never cached')
  await waitFor(() => handler.flood === heard, `all ${heard} flood adverts delivered (have ${handler.flood})`, 20_000)
  t.equal(driver.status().adverts.handlerErrors, 0)
  t.comment(`flood: ${sent} stamped adverts in ${Math.round(ms ?? 0)} ms, delivered ${handler.flood} (incl. ${heard - sent} set-up adverts)`)
})
