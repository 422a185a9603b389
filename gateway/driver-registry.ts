/**
 * The default DriverFactory: for each device kind, the real driver or the
 * simulated twin, chosen by the config's `driver` fields. This is the only
 * place that knows every device kind; it imports hw-* modules lazily-free
 * but they open nothing until start().
 */
import type { DriverFactory, BuiltDrivers, SimControl, DriverFactoryContext } from './driver-factory.js'
import type { DeviceDriver } from '../devices/device-driver.js'
import type { PanicButtonConfig } from '../devices/panic-button/config.js'
import type { BleWhistleConfig } from '../devices/ble-whistle/config.js'
import { SimPanicButtonDriver } from '../devices/panic-button/sim-panic-button.js'
import { FirmataPanicButtonDriver } from '../devices/panic-button/hw-firmata.js'
import { GpioPanicButtonDriver } from '../devices/panic-button/hw-gpio.js'
import { SimBleWhistle } from '../devices/ble-whistle/sim-ble-whistle.js'
import { HwBluezDriver, hwBluezOptionsFromConfig } from '../devices/ble-whistle/hw-bluez.js'
import { WhistleReceiver } from '../devices/ble-whistle/whistle-receiver.js'
import { FileReplayCounterStore } from '../devices/ble-whistle/replay-store-file.js'
import { MemoryReplayCounterStore } from '../devices/ble-whistle/replay-store.js'
import { GATEWAY_DEVICE } from './core/device-table.js'
import { lampBoxDrivers } from './driver-registry-lamp.js'
import { panicTwinControl, whistleTwinControl } from './twin-controls.js'

export const defaultDrivers: DriverFactory = async (ctx) => {
  const out: BuiltDrivers = { drivers: [], lamp: null, twins: new Map<string, SimControl>() }
  panicButtons(ctx, out)
  await whistles(ctx, out)
  const lamp = lampBoxDrivers(ctx, out.twins)
  if (lamp) {
    out.drivers.push(lamp.driver)
    out.lamp = lamp.actuator
  }
  return out
}

function dctx(ctx: DriverFactoryContext, component: string) {
  return { clock: ctx.clock, log: ctx.log.child({ component }), sink: ctx.sink }
}

function panicButtons(ctx: DriverFactoryContext, out: BuiltDrivers): void {
  const all = ctx.config.devices.filter((d): d is PanicButtonConfig => d.kind === 'panic-button')
  const by = (driver: string) => all.filter((d) => d.driver === driver).map((config) => ({ index: ctx.devices.indexOf(config.id), config }))
  const sims = by('sim')
  if (sims.length) {
    const sim = new SimPanicButtonDriver({ buttons: sims }, dctx(ctx, 'panic-sim'))
    out.drivers.push(sim)
    for (const b of sims) out.twins.set(b.config.id, panicTwinControl(sim, b.config.id))
  }
  const firmata = by('firmata')
  if (firmata.length) out.drivers.push(new FirmataPanicButtonDriver({ boards: ctx.config.boards, buttons: firmata }, dctx(ctx, 'panic-firmata')))
  const gpio = by('gpio')
  if (gpio.length) out.drivers.push(new GpioPanicButtonDriver({ buttons: gpio }, dctx(ctx, 'panic-gpio')))
}

async function whistles(ctx: DriverFactoryContext, out: BuiltDrivers): Promise<void> {
  const all = ctx.config.devices.filter((d): d is BleWhistleConfig => d.kind === 'ble-whistle')
  if (!all.length) return
  const transport = ctx.config.ble
  const replayStore = transport.driver === 'sim' && ctx.config.outbox.kind === 'memory'
    ? new MemoryReplayCounterStore()
    : await FileReplayCounterStore.open({ dir: ctx.config.data_dir, clock: ctx.clock })
  const specs = all.map((config) => ({ index: ctx.devices.indexOf(config.id), config, key: keyFor(ctx, config) }))
  const receiver = new WhistleReceiver({
    devices: specs,
    sink: ctx.sink,
    clock: ctx.clock,
    replayStore,
    gatewayDevice: GATEWAY_DEVICE,
  })
  let driver: DeviceDriver
  if (transport.driver === 'bluez') {
    driver = new HwBluezDriver(dctx(ctx, 'ble-bluez'), receiver, hwBluezOptionsFromConfig(transport, GATEWAY_DEVICE, true, shortestSupervisionMs(all)))
  } else {
    const sim = new SimBleWhistle(dctx(ctx, 'ble-sim'), receiver, { gatewayDevice: GATEWAY_DEVICE })
    driver = sim
    for (const s of specs) out.twins.set(s.config.id, whistleTwinControl(sim, s.config, s.key))
  }
  out.drivers.push(withReceiver(driver, receiver))
}

/** The shortest supervision interval of the supervised BLE devices (they advertise on their own); 0 = none. */
function shortestSupervisionMs(all: readonly BleWhistleConfig[]): number {
  const s = all.map((c) => c.supervision_s).filter((x) => x > 0)
  return s.length ? Math.min(...s) * 1000 : 0
}

function keyFor(ctx: DriverFactoryContext, c: BleWhistleConfig): string | null {
  const ref = c.key_ref
  if (!ref) return null
  const key = ctx.secrets.ble_keys[ref]
  if (!key) throw new Error(`device "${c.id}": key_ref "${ref}" is not in the secrets file's ble_keys; add it (32 hex digits) or remove key_ref`)
  return key
}

/** Start the receiver's heartbeat flush with the transport; stop the transport, then persist the replay counters. */
function withReceiver(d: DeviceDriver, receiver: WhistleReceiver): DeviceDriver {
  return {
    kind: d.kind,
    start: (signal) => { receiver.start(); return d.start(signal) },
    stop: async () => {
      await d.stop()
      receiver.stop()
      await receiver.flush()
    },
  }
}
