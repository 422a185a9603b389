/**
 * Issue 11 §9: memory under a BLE flood. A busy street of 6,000 distinct
 * addresses (phones with random addresses) floods the real driver through
 * the private dbus-daemon; the driver's per-device table stays bounded
 * (MAX_TRACKED_DEVICES) and the V8 heap comes back after the flood, within a
 * generous bound. A press after the flood still arrives. The figures for the
 * whole gateway are in bench/RESULTS.md (bench/ble-flood-memory.ts).
 */
import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { HwBluezDriver } from '../../../devices/ble-whistle/hw-bluez.js'
import { MAX_TRACKED_DEVICES } from '../../../devices/ble-whistle/bluez-advert-stream.js'
import { BTHOME_UUID, type AdvertHandler, type RawAdvert } from '../../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { PrivateBus } from '../../harness/bluez-sim-bus.js'
import { BluezSimProcess } from '../../harness/bluez-sim-process.js'
import { FLOOD_COMPANY_ID } from '../../harness/bluez-sim.js'
import { RecordingSink, testContext, waitFor } from '../../harness/bluez-sim-recorder.js'
import { bluezTestOptions } from '../../harness/bluez-sim-stack.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const BUTTON = 'AA:BB:CC:00:31:01'
const ADDRESSES = 6000
/** Generous: the bounded table is ~1 MiB; the rest is GC timing on a loaded machine. */
const HEAP_BOUND_MIB = 24

// 6,000 InterfacesAdded plus the flood take ~15 s alone, a minute on a loaded 2-core machine.
t.setTimeout(180_000)

class Counter implements AdvertHandler {
  flood = 0
  presses = 0
  onAdvert(a: RawAdvert): void {
    if (a.manufacturerData?.has(FLOOD_COMPANY_ID)) this.flood++
    else if (a.address === BUTTON && !a.cached) this.presses++
  }
}

t.test(`a flood from ${ADDRESSES} addresses: the device table stays bounded and the heap comes back`, async (t) => {
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSimProcess(bus.address).open()
  t.teardown(() => sim.close())
  const handler = new Counter()
  const driver = new HwBluezDriver(testContext(new RecordingSink()), handler, bluezTestOptions(bus.address))
  t.teardown(() => driver.stop())
  await driver.start(new AbortController().signal)
  gc()
  const before = process.memoryUsage().heapUsed
  const { heard } = await sim.flood({ perSecond: 5000, durationMs: 3000, devices: ADDRESSES })
  await waitFor(() => handler.flood === heard, `all ${heard} flood adverts delivered (have ${handler.flood})`, 60_000)
  const st = driver.status().adverts
  t.ok(st.devices <= MAX_TRACKED_DEVICES, `device table bounded: ${st.devices} <= ${MAX_TRACKED_DEVICES}`)
  t.ok(st.evicted >= ADDRESSES - MAX_TRACKED_DEVICES, `oldest entries forgotten (${st.evicted})`)
  await new Promise((r) => setTimeout(r, 500))
  gc()
  const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024
  t.comment(`heap after the flood and a full GC: ${grown.toFixed(1)} MiB above before`)
  t.ok(grown < HEAP_BOUND_MIB, `heap back within ${HEAP_BOUND_MIB} MiB of before (${grown.toFixed(1)} MiB)`)
  const press = bthomeServiceData({ packetId: 7, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true })
  await sim.pressBurst(BUTTON, { rssi: -58, serviceData: { [BTHOME_UUID]: press } }, 3, 25)
  await waitFor(() => handler.presses === 3, 'the press after the flood', 10_000)
})
