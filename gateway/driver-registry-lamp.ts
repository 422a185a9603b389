/** The lamp box: the real Modbus driver or its twin; it is both a device and the post's lamp actuator. */
import type { DriverFactoryContext, SimControl } from './driver-factory.js'
import type { DeviceDriver, LampActuator } from '../devices/device-driver.js'
import type { LampBoxConfig } from '../devices/lamp-box/config.js'
import { HwModbusLampBox } from '../devices/lamp-box/hw-modbus.js'
import { SimLampBox } from '../devices/lamp-box/sim-lamp-box.js'
import { lampTwinControl } from './twin-controls.js'

export function lampBoxDrivers(ctx: DriverFactoryContext, twins: Map<string, SimControl>): { driver: DeviceDriver; actuator: LampActuator } | null {
  const c = ctx.config.devices.find((d): d is LampBoxConfig => d.kind === 'lamp-box')
  if (!c) return null
  const index = ctx.devices.indexOf(c.id)
  const dctx = { clock: ctx.clock, log: ctx.log.child({ component: `lamp-${c.driver}` }), sink: ctx.sink }
  if (c.driver === 'modbus') {
    const hw = new HwModbusLampBox(c, index, dctx)
    return { driver: hw, actuator: hw }
  }
  const sim = new SimLampBox(c, index, dctx)
  twins.set(c.id, lampTwinControl(sim))
  return { driver: sim, actuator: sim }
}
