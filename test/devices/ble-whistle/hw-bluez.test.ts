/**
 * HwBluezDriver on the real client stack: driver -> dbus-next -> private
 * dbus-daemon -> simulated org.bluez (test/harness/bluez-sim.ts).
 * Delivery paths, cached devices, the discovery filter, InProgress.
 */
import t, { type Test } from 'tap'
import { BTHOME_UUID, APPLE_COMPANY_ID } from '../../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import type { BluezSim } from '../../harness/bluez-sim.js'
import { waitFor } from '../../harness/bluez-sim-recorder.js'
import { GW, startBluezStack } from '../../harness/bluez-sim-stack.js'

async function setup(t: Test, before?: (sim: BluezSim) => void) {
  return startBluezStack(t, { before })
}

const PRESS = (id: number) => ({ [BTHOME_UUID]: bthomeServiceData({ packetId: id, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true }) })

t.test('starts scanning: powers on, LE + DuplicateData filter, StartDiscovery', async (t) => {
  const { sim, sink, driver } = await setup(t, (sim) => { sim.powered = false })
  t.equal(driver.status().state, 'scanning')
  t.equal(sim.powered, true, 'adapter powered on by the driver')
  t.equal(sim.discovering, true)
  t.same(sim.filter, { Transport: 'le', DuplicateData: true }, 'filter: LE only, every advertisement')
  t.equal(sink.lastLink(GW)?.status, 'online')
})

t.test('adverts via InterfacesAdded and via PropertiesChanged are both delivered, identical repeats too', async (t) => {
  const { sim, handler } = await setup(t)
  const A = 'AA:BB:CC:00:00:01'
  t.ok(sim.advertise(A, { rssi: -55, serviceData: PRESS(1) }), 'first advert: new device object')
  await waitFor(() => handler.from(A).length === 1, 'advert via InterfacesAdded')
  const first = handler.from(A)[0]
  t.equal(first.cached, false)
  t.equal(first.rssi, -55)
  t.same([...first.serviceData!.keys()], [BTHOME_UUID])
  t.same(first.serviceData!.get(BTHOME_UUID), PRESS(1)[BTHOME_UUID])
  t.equal(first.manufacturerData, null)

  sim.advertise(A, { rssi: -56, serviceData: PRESS(1) })
  sim.advertise(A, { rssi: -56, serviceData: PRESS(1) }) // identical: only DuplicateData makes BlueZ say so
  sim.advertise(A, { rssi: -57, manufacturerData: { [APPLE_COMPANY_ID]: Buffer.from([2, 0x15, 1, 2]) } })
  await waitFor(() => handler.from(A).length === 4, 'three more adverts via PropertiesChanged')
  const [, b, c, d] = handler.from(A)
  t.equal(b.rssi, -56)
  t.equal(c.rssi, -56, 'RSSI unchanged: last known RSSI carried')
  t.ok(c.serviceData, 'identical repeat delivered')
  t.equal(d.serviceData, null, 'fields absent from the advert are null')
  t.same(d.manufacturerData?.get(APPLE_COMPANY_ID), Buffer.from([2, 0x15, 1, 2]))
  t.notOk(handler.adverts.some((a) => a.cached))
})

t.test('devices cached in BlueZ at start are delivered cached only', async (t) => {
  const { sim, handler } = await setup(t, (sim) => {
    sim.addDevice('AA:BB:CC:00:00:02', { rssi: -70, serviceData: PRESS(9) })
    sim.addDevice('AA:BB:CC:00:00:03', { rssi: -71, manufacturerData: { [APPLE_COMPANY_ID]: Buffer.from([2, 0x15]) } })
  })
  const cached = handler.adverts.filter((a) => a.cached)
  t.same(cached.map((a) => a.address).sort(), ['AA:BB:CC:00:00:02', 'AA:BB:CC:00:00:03'])
  t.equal(handler.adverts.filter((a) => !a.cached).length, 0, 'nothing live from the cache')
  sim.advertise('AA:BB:CC:00:00:02', { rssi: -60, serviceData: PRESS(10) })
  await waitFor(() => handler.adverts.some((a) => !a.cached), 'the next advert is live')
  t.equal(handler.adverts.at(-1)!.address, 'AA:BB:CC:00:00:02')
})

t.test('device expiry (30 s TemporaryTimeout) and return: next press arrives as a new device', async (t) => {
  const { sim, handler, driver } = await setup(t)
  const A = 'AA:BB:CC:00:00:04'
  sim.advertise(A, { rssi: -60, serviceData: PRESS(1) })
  await waitFor(() => handler.from(A).length === 1, 'first press')
  await waitFor(() => driver.status().adverts.devices === 1, 'device known')
  sim.expire(A)
  await waitFor(() => driver.status().adverts.devices === 0, 'InterfacesRemoved handled')
  sim.advertise(A, { rssi: -61, serviceData: PRESS(2) })
  await waitFor(() => handler.from(A).length === 2, 'press after expiry')
  t.equal(handler.from(A)[1].cached, false)
  t.same(handler.from(A)[1].serviceData!.get(BTHOME_UUID), PRESS(2)[BTHOME_UUID])
})

t.test('StartDiscovery InProgress (another scanner) is tolerated and retried', async (t) => {
  const { sim, driver } = await startBluezStack(t, { before: (sim) => { sim.busyScanner = true } })
  t.not(driver.status().state, 'scanning', 'not scanning while the controller is busy')
  t.match(driver.status().reason, /another program/)
  sim.busyScanner = false
  await waitFor(() => driver.status().state === 'scanning', 'driver retries and scans')
  t.equal(sim.discovering, true)
  // Our own session already running: a second StartDiscovery gets InProgress, still "scanning".
  sim.setDiscovering(false)
  await waitFor(() => sim.discovering && driver.status().state === 'scanning', 'restarted after discovery stopped behind our back')
  t.ok(sim.calls.start >= 3, 'StartDiscovery called again')
})
