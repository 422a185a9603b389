/**
 * HwBluezDriver survives what happens on a Pi over months (issue 4 §5), on the
 * real client stack: the adapter vanishing and returning, bluetoothd
 * restarting, the bus daemon restarting, and technician mistakes (no
 * bluetoothd, wrong adapter, missing D-Bus policy, no bus) reported clearly.
 */
import t from 'tap'
import dbus from 'dbus-next'
import { BTHOME_UUID } from '../../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData, BTHOME_BUTTON } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { waitFor } from '../../harness/bluez-sim-recorder.js'
import { GW, startBluezStack } from '../../harness/bluez-sim-stack.js'
import type { BluezSim } from '../../harness/bluez-sim.js'

const PRESS = (id: number) => ({ [BTHOME_UUID]: bthomeServiceData({ packetId: id, buttons: [BTHOME_BUTTON.PRESS], triggerBased: true }) })
const A = 'AA:BB:CC:00:10:01'

/** Advertise until the driver hears it (the sim drops adverts while not discovering). */
async function pressHeard(sim: BluezSim, count: () => number, id: number): Promise<void> {
  const before = count()
  await waitFor(() => { sim.advertise(A, { rssi: -60, serviceData: PRESS(id) }); return count() > before }, `press ${id} delivered`)
}

t.test('adapter vanishes and returns unpowered: fault, then powered, filter re-set, discovery restarted', async (t) => {
  const { sim, sink, handler, driver } = await startBluezStack(t)
  await pressHeard(sim, () => handler.from(A).length, 1)
  const filterCalls = sim.calls.setFilter
  const starts = sim.calls.start
  sim.removeAdapter()
  await waitFor(() => driver.status().state === 'no-adapter', 'driver notices the adapter is gone')
  t.match(driver.status().reason, /adapter hci0 not found/)
  t.equal(sink.lastLink(GW)?.status, 'fault')
  t.equal(driver.status().adverts.devices, 0, 'device table cleared')

  sim.addAdapter(false)
  await waitFor(() => driver.status().state === 'scanning', 'scanning again')
  t.equal(sim.powered, true, 'powered on again')
  t.ok(sim.calls.setFilter > filterCalls, 'filter set again')
  t.ok(sim.calls.start > starts, 'discovery started again')
  t.same(sim.filter, { Transport: 'le', DuplicateData: true })
  t.equal(sink.lastLink(GW)?.status, 'online')
  await pressHeard(sim, () => handler.from(A).filter((a) => !a.cached).length, 2)
})

t.test('bluetoothd crashes and restarts: waits for org.bluez, re-sets filter, scans; stored devices come back cached', async (t) => {
  const { sim, handler, driver } = await startBluezStack(t, {
    before: (sim) => sim.addDevice('AA:BB:CC:00:10:02', { rssi: -70, serviceData: PRESS(5) }, true),
  })
  await pressHeard(sim, () => handler.from(A).length, 1)
  await sim.crashBluetoothd()
  await waitFor(() => driver.status().state === 'no-bluetoothd', 'driver notices bluetoothd is gone')
  t.match(driver.status().reason, /bluetoothd/)
  const filterCalls = sim.calls.setFilter
  const cachedBefore = handler.adverts.filter((a) => a.cached).length

  await sim.restartBluetoothd()
  await waitFor(() => driver.status().state === 'scanning', 'scanning after restart')
  t.ok(sim.calls.setFilter > filterCalls, 'filter set on the new bluetoothd')
  t.equal(sim.discovering, true)
  await pressHeard(sim, () => handler.from(A).filter((a) => !a.cached).length, 2)
  // The stored device reappeared without RSSI and with old data: never live.
  t.notOk(handler.from('AA:BB:CC:00:10:02').some((a) => !a.cached), 'stored device never delivered live')
  t.ok(handler.adverts.filter((a) => a.cached).length >= cachedBefore)
})

t.test('started without bluetoothd: clear fault, then scans when it appears', async (t) => {
  const { sim, driver, sink } = await startBluezStack(t, { noBluetoothd: true })
  t.equal(driver.status().state, 'no-bluetoothd')
  t.match(driver.status().reason, /systemctl enable --now bluetooth/)
  t.equal(sink.lastLink(GW)?.status, 'fault')
  await sim.start()
  await waitFor(() => driver.status().state === 'scanning', 'scanning once bluetoothd is up')
})

t.test('wrong adapter name: message lists the adapters found', async (t) => {
  const { driver } = await startBluezStack(t, { driver: { adapter: 'hci1' } })
  t.equal(driver.status().state, 'no-adapter')
  t.match(driver.status().reason, /hci1 not found.*found: hci0; set ble\.adapter/)
})

t.test('D-Bus policy denies org.bluez: message says which policy file to install', async (t) => {
  const { driver } = await startBluezStack(t, { bus: { denyBluez: true } })
  t.equal(driver.status().state, 'policy-denied')
  t.match(driver.status().reason, /D-Bus policy denies user .* access to org\.bluez.*\/etc\/dbus-1\/system\.d\/safehouse-bluez\.conf/)
})

t.test('no bus at the address: start resolves with a no-bus fault', async (t) => {
  const { PrivateBus } = await import('../../harness/bluez-sim-bus.js')
  const bus = await new PrivateBus().open()
  const address = bus.address
  await bus.close()
  const { HwBluezDriver } = await import('../../../devices/ble-whistle/hw-bluez.js')
  const { RecordingHandler, RecordingSink, testContext } = await import('../../harness/bluez-sim-recorder.js')
  const { bluezTestOptions } = await import('../../harness/bluez-sim-stack.js')
  const sink = new RecordingSink()
  const driver = new HwBluezDriver(testContext(sink), new RecordingHandler(), bluezTestOptions(address))
  t.teardown(() => driver.stop())
  await driver.start(new AbortController().signal)
  t.equal(driver.status().state, 'no-bus')
  t.match(driver.status().reason, /cannot reach the D-Bus system bus at unix:path=.*is dbus running/)
})

t.test('the bus daemon restarts: driver reconnects and scans again', async (t) => {
  const { bus, sim, sink, handler, driver } = await startBluezStack(t)
  await pressHeard(sim, () => handler.from(A).length, 1)
  await sim.stop()
  await bus.kill()
  await waitFor(() => driver.status().state === 'no-bus', 'driver notices the bus is gone')
  t.match(driver.status().reason, /lost the D-Bus system bus/)
  t.equal(sink.lastLink(GW)?.status, 'fault')
  await bus.open()
  await sim.start()
  await waitFor(() => driver.status().state === 'scanning', 'reconnected and scanning', 15_000)
  await pressHeard(sim, () => handler.from(A).filter((a) => !a.cached).length, 2)
  t.equal(sink.lastLink(GW)?.status, 'online')
})

t.test('a unicast signal from a non-bluez sender is not an advertisement', async (t) => {
  const { bus, sim, handler } = await startBluezStack(t)
  const rogue = dbus.sessionBus({ busAddress: bus.address })
  rogue.on('error', () => {})
  t.teardown(() => rogue.disconnect())
  const names = await rogue.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'ListNames' }))
  for (const name of (names!.body[0] as string[]).filter((n) => n.startsWith(':'))) {
    const sig = dbus.Message.newSignal('/org/bluez/hci0/dev_AA_BB_CC_00_66_66', 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as',
      ['org.bluez.Device1', { RSSI: new dbus.Variant('n', -10), ServiceData: new dbus.Variant('a{sv}', { [BTHOME_UUID]: new dbus.Variant('ay', PRESS(1)[BTHOME_UUID]) }) }, []])
    sig.destination = name
    rogue.send(sig)
  }
  await pressHeard(sim, () => handler.from(A).length, 1) // a real one after the forged ones, same connection order
  t.equal(handler.from('AA:BB:CC:00:66:66').length, 0, 'forged advert dropped')
})
