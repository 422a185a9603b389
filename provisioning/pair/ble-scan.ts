/**
 * Scanning for `safehouse pair ble`: the gateway's own BlueZ transport
 * (HwBluezDriver: bus connection, match rules, adapter lookup, power on,
 * LE + DuplicateData filter, StartDiscovery, Device1 signals -> RawAdvert),
 * configured from the config's `ble:` section, so pairing hears exactly what
 * the gateway will hear. The driver never throws from start() (the gateway
 * keeps retrying); a technician at a terminal wants the reason at once, so
 * here a fault after start is an error with what to check.
 *
 * Device names: RawAdvert carries none (the gateway does not need them), so
 * names are read once per device with Properties.Get(Device1, "Name") on a
 * second, call-only connection. Best effort: a device that sends no name, or
 * a failed call, just shows "-".
 */
import type { MessageBus } from 'dbus-next'
import pino from 'pino'
import { systemClock } from '../../devices/time/clock.js'
import type { DeviceInputSink } from '../../devices/device-driver.js'
import { closeBus, connectBus } from '../../devices/ble-whistle/hw-bluez-bus.js'
import { BLUEZ, BluezCalls, DEVICE1, PROPERTIES } from '../../devices/ble-whistle/hw-bluez-discovery.js'
import { adapterPath } from '../../devices/ble-whistle/bluez-variants.js'
import { HwBluezDriver, hwBluezOptionsFromConfig, type BluezState } from '../../devices/ble-whistle/hw-bluez.js'
import type { AdvertHandler } from '../../devices/ble-whistle/raw-advert.js'
import type { BleTransportConfig } from '../../devices/ble-whistle/transport-config.js'

/** Faults that do not go away by waiting a few seconds: report them at once. */
const FATAL: ReadonlySet<BluezState> = new Set<BluezState>(['no-bus', 'bus-denied', 'no-bluetoothd', 'policy-denied', 'no-adapter', 'rfkill'])
/** How long a passing fault (adapter powering up, controller busy) may last before we give up. */
const SETTLE_MS = 10_000

export class ScanError extends Error {}

const noSink: DeviceInputSink = { input() {}, linkStatus() {}, count() {} }

export class BleScan {
  private readonly driver: HwBluezDriver
  private readonly ac = new AbortController()
  private nameBus: MessageBus | null = null
  private nameCalls: BluezCalls | null = null
  private readonly nameQueue: string[] = []
  private readonly named = new Set<string>()
  private naming = false
  private stopped = false

  constructor(private readonly transport: BleTransportConfig, handler: AdvertHandler, private readonly onName: (address: string, name: string) => void) {
    // Watchdog off (devicesExpected false): pairing runs a minute, with a person watching.
    const opts = hwBluezOptionsFromConfig(transport, 0, false)
    this.driver = new HwBluezDriver({ clock: systemClock, log: pino({ level: 'silent' }), sink: noSink }, handler, opts)
  }

  /** Connect and start discovery; throws ScanError naming what to check. */
  async start(): Promise<void> {
    await this.driver.start(this.ac.signal)
    const deadline = Date.now() + SETTLE_MS
    for (;;) {
      const { state, reason } = this.driver.status()
      if (state === 'scanning') break
      if (FATAL.has(state) || Date.now() > deadline) throw new ScanError(explain(reason, this.transport))
      await new Promise((r) => setTimeout(r, 100))
    }
    try {
      this.nameBus = await connectBus(this.transport.bus_address, systemClock, this.transport.call_timeout_ms, () => { this.nameCalls = null })
      this.nameCalls = new BluezCalls(this.nameBus, systemClock, this.transport.call_timeout_ms)
      void this.drainNames() // devices BlueZ had cached arrived during driver.start()
    } catch {
      // Names are a convenience; scanning works without them.
    }
  }

  /** Look the device's name up once (queued; one call at a time, after start()). */
  requestName(address: string): void {
    if (this.named.has(address) || this.stopped) return
    this.named.add(address)
    this.nameQueue.push(address)
    if (!this.naming && this.nameCalls !== null) void this.drainNames()
  }

  private async drainNames(): Promise<void> {
    this.naming = true
    const base = adapterPath(this.transport.adapter) + '/dev_'
    while (!this.stopped && this.nameQueue.length > 0 && this.nameCalls !== null) {
      const address = this.nameQueue.shift()!
      try {
        const reply = await this.nameCalls.call(BLUEZ, base + address.replaceAll(':', '_'), PROPERTIES, 'Get', 'ss', [DEVICE1, 'Name'])
        const v = (reply.body[0] as { value?: unknown } | undefined)?.value
        if (typeof v === 'string' && !this.stopped) this.onName(address, v)
      } catch {
        // No Name property (the device sends none) or the device expired: leave it blank.
      }
    }
    this.naming = false
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.ac.abort()
    await this.driver.stop()
    if (this.nameBus) closeBus(this.nameBus)
    this.nameBus = null
    this.nameCalls = null
  }
}

/** The driver's one-line reason plus the checks a technician runs (docs/devices/ble.md "BlueZ setup"). */
export function explain(reason: string, t: BleTransportConfig): string {
  return [
    `cannot scan for BLE devices: ${reason}`,
    'Check:',
    '  - bluetoothd is running: systemctl status bluetooth (start it: sudo systemctl enable --now bluetooth)',
    '  - you may talk to org.bluez: the D-Bus policy that `safehouse install` writes (/etc/dbus-1/system.d/safehouse-bluez.conf)',
    '    covers the service user only; run this as root (sudo safehouse pair ble ...), or join group bluetooth',
    '    (sudo usermod -aG bluetooth $USER, then log in again)',
    `  - the adapter: bluetoothctl list must show ${t.adapter} (ble.adapter in the config); rfkill list shows no block`,
    `  - the bus: ${t.bus_address ? `ble.bus_address is ${t.bus_address}` : 'the system bus (/run/dbus/system_bus_socket) must be reachable'}`,
  ].join('\n')
}
