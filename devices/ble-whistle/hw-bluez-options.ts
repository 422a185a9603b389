/**
 * Constructor options of HwBluezDriver (hw-bluez.ts), how they come from the
 * `ble:` config section, and the transport's states as link status.
 */
import type { DeviceLinkStatus } from '../device-driver.js'
import type { BluezFault } from './bluez-errors.js'
import type { BleTransportConfig } from './transport-config.js'

export interface HwBluezOptions {
  /** BlueZ adapter name, e.g. "hci0". */
  adapter: string
  /** D-Bus address; '' = the system bus ($DBUS_SYSTEM_BUS_ADDRESS or /var/run/dbus/system_bus_socket). */
  busAddress: string
  /** Device-table index of this gateway/adapter: trouble alerts and link status go there. */
  gatewayDevice: number
  /** Whether BLE devices are configured; the watchdog runs only then. */
  devicesExpected: boolean
  watchdogSilenceMs: number
  watchdogStepMs: number
  retryMinMs: number
  retryMaxMs: number
  callTimeoutMs: number
}

export function hwBluezOptionsFromConfig(cfg: BleTransportConfig, gatewayDevice: number, devicesExpected: boolean): HwBluezOptions {
  return {
    adapter: cfg.adapter, busAddress: cfg.bus_address, gatewayDevice, devicesExpected,
    watchdogSilenceMs: cfg.watchdog_silence_s * 1000, watchdogStepMs: cfg.watchdog_step_s * 1000,
    retryMinMs: cfg.retry_min_ms, retryMaxMs: cfg.retry_max_ms, callTimeoutMs: cfg.call_timeout_ms,
  }
}

export type BluezState = 'stopped' | 'connecting' | 'starting' | 'scanning' | BluezFault['kind']

export function linkOf(state: BluezState): DeviceLinkStatus {
  if (state === 'scanning') return 'online'
  if (state === 'stopped') return 'offline'
  if (state === 'connecting' || state === 'starting') return 'starting'
  return 'fault'
}
