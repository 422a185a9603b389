/**
 * Config for the BLE *transport* (one scanner per post, shared by every
 * ble-whistle device): which backend, which adapter, which bus, and the
 * discovery watchdog (issue 4 §5). For the lead to merge into the top-level
 * config as a `ble:` section; per-device fields stay in ./config.ts.
 */
export const bleTransportConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    driver: { enum: ['sim', 'bluez'], default: 'sim', description: 'sim = simulated twin (demo, tests); bluez = BlueZ over the D-Bus system bus (the Pi).' },
    adapter: { type: 'string', pattern: '^hci[0-9]{1,3}$', default: 'hci0', description: 'BlueZ adapter to scan with (see `bluetoothctl list`). The Pi 3/4/5 built-in adapter is hci0.' },
    bus_address: { type: 'string', default: '', description: 'D-Bus address of the system bus. Empty = $DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/var/run/dbus/system_bus_socket. Tests pass a private bus here.' },
    watchdog_silence_s: { type: 'integer', minimum: 0, maximum: 86400, default: 60, description: 'If no advertisement at all arrives for this long while BLE devices are configured, restart discovery; when some BLE device is supervised (it advertises on its own) and the silence also exceeds its supervision_s, then power-cycle the adapter, then raise gateway_trouble. 0 = watchdog off.' },
    watchdog_step_s: { type: 'integer', minimum: 1, maximum: 3600, default: 20, description: 'Time between watchdog escalation steps (restart discovery -> power-cycle -> trouble alert).' },
    retry_min_ms: { type: 'integer', minimum: 10, maximum: 60000, default: 1000, description: 'First retry delay after a failed D-Bus/BlueZ step (doubles, with jitter).' },
    retry_max_ms: { type: 'integer', minimum: 100, maximum: 600000, default: 30000, description: 'Longest retry delay.' },
    call_timeout_ms: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'How long one D-Bus call to bluetoothd may take before it counts as failed.' },
  },
} as const

export interface BleTransportConfig {
  driver: 'sim' | 'bluez'
  adapter: string
  bus_address: string
  watchdog_silence_s: number
  watchdog_step_s: number
  retry_min_ms: number
  retry_max_ms: number
  call_timeout_ms: number
}
