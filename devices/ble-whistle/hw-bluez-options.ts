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
  /**
   * The shortest `supervision_s` (ms) of the configured BLE devices that are supervised (they
   * advertise on their own, e.g. beacon mode); 0 = none is. Silence shorter than this is
   * normal, so the watchdog waits at least this long; with 0 a silent street is normal and
   * the watchdog only restarts discovery (issue 11 §7: a quiet site was power-cycled twice
   * and raised gateway_trouble).
   */
  supervisedAdvertMs?: number
  watchdogSilenceMs: number
  watchdogStepMs: number
  retryMinMs: number
  retryMaxMs: number
  callTimeoutMs: number
}

export function hwBluezOptionsFromConfig(cfg: BleTransportConfig, gatewayDevice: number, devicesExpected: boolean, supervisedAdvertMs = 0): HwBluezOptions {
  return {
    adapter: cfg.adapter, busAddress: cfg.bus_address, gatewayDevice, devicesExpected, supervisedAdvertMs,
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
