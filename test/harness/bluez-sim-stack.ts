/**
 * One call for a real-stack BLE transport test: private dbus-daemon +
 * simulated org.bluez + HwBluezDriver with recording ends, all torn down by
 * `t.teardown` (driver first, then bluetoothd, then the daemon).
 */
import type { Test } from 'tap'
import type { Clock } from '../../devices/time/clock.js'
import { HwBluezDriver, type HwBluezOptions } from '../../devices/ble-whistle/hw-bluez.js'
import type { AdvertHandler } from '../../devices/ble-whistle/raw-advert.js'
import type { DriverContext } from '../../devices/device-driver.js'
import { PrivateBus, type PrivateBusOptions } from './bluez-sim-bus.js'
import { BluezSim } from './bluez-sim.js'
import { RecordingHandler, RecordingSink, testContext } from './bluez-sim-recorder.js'

export const GW = 7

export function bluezTestOptions(busAddress: string, over: Partial<HwBluezOptions> = {}): HwBluezOptions {
  return {
    adapter: 'hci0', busAddress, gatewayDevice: GW, devicesExpected: false,
    watchdogSilenceMs: 0, watchdogStepMs: 1000, retryMinMs: 50, retryMaxMs: 500, callTimeoutMs: 5000, ...over,
  }
}

export interface StackOptions {
  bus?: PrivateBusOptions
  /** Prepare the sim before the driver starts (cached devices, busy scanner...). */
  before?: (sim: BluezSim) => void | Promise<void>
  driver?: Partial<HwBluezOptions>
  /** Use this handler instead of a RecordingHandler (e.g. the real WhistleReceiver). */
  handler?: (ctx: DriverContext) => AdvertHandler
  /** Do not start the sim (no bluetoothd on the bus). */
  noBluetoothd?: boolean
  /** Clock for the driver (FakeClock drives the watchdog; D-Bus I/O stays real). */
  clock?: Clock
}

export async function startBluezStack(t: Test, o: StackOptions = {}) {
  const bus = await new PrivateBus(o.bus).open()
  t.teardown(() => bus.close())
  const sim = new BluezSim(bus.address)
  if (!o.noBluetoothd) await sim.start()
  t.teardown(() => sim.stop())
  await o.before?.(sim)
  const sink = new RecordingSink()
  const ctx = testContext(sink, o.clock)
  const recorder = new RecordingHandler()
  const handler = o.handler ? o.handler(ctx) : recorder
  const driver = new HwBluezDriver(ctx, handler, bluezTestOptions(bus.address, o.driver))
  const ac = new AbortController()
  t.teardown(async () => { ac.abort(); await driver.stop() })
  await driver.start(ac.signal)
  return { bus, sim, sink, handler: recorder, driver, ctx }
}
