/**
 * How the composition root gets its drivers: one factory builds, for every
 * configured device, the real driver or the simulated twin its `driver:`
 * field names (DESIGN §4: production differs from the demo in one field).
 */
import type { Logger } from 'pino'
import type { Clock } from '../devices/time/clock.js'
import type { Config } from './config/config-types.js'
import type { Secrets } from './config/secrets.js'
import type { DeviceTable } from './core/device-table.js'
import type { DeviceDriver, DeviceInputSink, LampActuator } from '../devices/device-driver.js'

export interface DriverFactoryContext {
  config: Readonly<Config>
  secrets: Secrets
  devices: DeviceTable
  clock: Clock
  log: Logger
  sink: DeviceInputSink
}

/** A simulated twin's remote control (demo keys, `safehouse simulate`, the sim/ topics). */
export interface SimControl {
  /** Perform `action` (press, hold, cut, short, restore, blow, battery, ...); returns an error text or null. */
  act(action: string, arg?: number): string | null
  readonly actions: readonly string[]
}

export interface BuiltDrivers {
  drivers: DeviceDriver[]
  lamp: LampActuator | null
  twins: Map<string, SimControl>
}

export type DriverFactory = (ctx: DriverFactoryContext) => BuiltDrivers | Promise<BuiltDrivers>
