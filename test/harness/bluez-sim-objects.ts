/**
 * The exported D-Bus interfaces of the simulated org.bluez (see bluez-sim.ts):
 * ObjectManager at "/", org.bluez.Adapter1 and org.bluez.Device1, built with
 * dbus-next's service API (configureMembers; the repo's tsconfig has no
 * decorators). Behaviour lives in BluezSim; these classes forward to it.
 */
import dbus from 'dbus-next'

const { Interface } = dbus.interface

export interface AdapterBehaviour {
  powered: boolean
  discovering: boolean
  address: string
  setPowered(on: boolean): void
  setDiscoveryFilter(filter: Record<string, { value: unknown }>): void
  startDiscovery(): void
  stopDiscovery(): void
  removeDevice(path: string): void
  /** A slow bluetoothd (issue 11: peers that answer late): each Adapter1 method call waits this long. */
  callDelayMs: number
}

const later = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve())

export class ObjectManagerIface extends Interface {
  constructor(private readonly managed: () => unknown) { super('org.freedesktop.DBus.ObjectManager') }
  GetManagedObjects(): unknown { return this.managed() }
  InterfacesAdded(path: string, ifaces: unknown): unknown[] { return [path, ifaces] }
  InterfacesRemoved(path: string, ifaces: string[]): unknown[] { return [path, ifaces] }
}
ObjectManagerIface.configureMembers({
  methods: { GetManagedObjects: { outSignature: 'a{oa{sa{sv}}}' } },
  signals: { InterfacesAdded: { signature: 'oa{sa{sv}}' }, InterfacesRemoved: { signature: 'oas' } },
})

export class AdapterIface extends Interface {
  constructor(private readonly b: AdapterBehaviour) { super('org.bluez.Adapter1') }
  get Address(): string { return this.b.address }
  get Powered(): boolean { return this.b.powered }
  set Powered(on: boolean) { this.b.setPowered(on) }
  get Discovering(): boolean { return this.b.discovering }
  async SetDiscoveryFilter(filter: Record<string, { value: unknown }>): Promise<void> { await later(this.b.callDelayMs); this.b.setDiscoveryFilter(filter) }
  async StartDiscovery(): Promise<void> { await later(this.b.callDelayMs); this.b.startDiscovery() }
  async StopDiscovery(): Promise<void> { await later(this.b.callDelayMs); this.b.stopDiscovery() }
  RemoveDevice(path: string): void { this.b.removeDevice(path) }
}
AdapterIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    Powered: { signature: 'b', access: 'readwrite' },
    Discovering: { signature: 'b', access: 'read' },
  },
  methods: {
    SetDiscoveryFilter: { inSignature: 'a{sv}' },
    StartDiscovery: {},
    StopDiscovery: {},
    RemoveDevice: { inSignature: 'o' },
  },
})

/** Device1 state; the property getters read it. Absent RSSI/data are simply not in GetManagedObjects. */
export interface SimDeviceState {
  path: string
  address: string
  rssi: number | null
  serviceData: Record<string, Buffer> | null
  manufacturerData: Record<number, Buffer> | null
  /** Survives bluetoothd restarts and adapter returns (paired/stored in /var/lib/bluetooth). */
  stored: boolean
}

export class DeviceIface extends Interface {
  constructor(readonly state: SimDeviceState, private readonly adapterPath: string) { super('org.bluez.Device1') }
  get Address(): string { return this.state.address }
  get AddressType(): string { return 'public' }
  get Adapter(): string { return this.adapterPath }
  get RSSI(): number { return this.state.rssi ?? 0 }
  get ServiceData(): Record<string, InstanceType<typeof dbus.Variant>> { return serviceDataVariants(this.state.serviceData ?? {}) }
  get ManufacturerData(): Record<string, InstanceType<typeof dbus.Variant>> { return manufacturerDataVariants(this.state.manufacturerData ?? {}) }
}
DeviceIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Adapter: { signature: 'o', access: 'read' },
    RSSI: { signature: 'n', access: 'read' },
    ServiceData: { signature: 'a{sv}', access: 'read' },
    ManufacturerData: { signature: 'a{qv}', access: 'read' },
  },
})

export function serviceDataVariants(sd: Record<string, Buffer>): Record<string, InstanceType<typeof dbus.Variant>> {
  const out: Record<string, InstanceType<typeof dbus.Variant>> = {}
  for (const k of Object.keys(sd)) out[k] = new dbus.Variant('ay', sd[k])
  return out
}

export function manufacturerDataVariants(md: Record<number, Buffer>): Record<string, InstanceType<typeof dbus.Variant>> {
  const out: Record<string, InstanceType<typeof dbus.Variant>> = {}
  for (const k of Object.keys(md)) out[k] = new dbus.Variant('ay', md[Number(k)])
  return out
}

/** Device1 properties as an a{sv} dict, leaving out what BlueZ would not expose (RSSI before it heard the device). */
export function deviceProps(s: SimDeviceState, adapterPath: string): Record<string, InstanceType<typeof dbus.Variant>> {
  const p: Record<string, InstanceType<typeof dbus.Variant>> = {
    Address: new dbus.Variant('s', s.address),
    AddressType: new dbus.Variant('s', 'public'),
    Adapter: new dbus.Variant('o', adapterPath),
  }
  if (s.rssi !== null) p.RSSI = new dbus.Variant('n', s.rssi)
  if (s.serviceData) p.ServiceData = new dbus.Variant('a{sv}', serviceDataVariants(s.serviceData))
  if (s.manufacturerData) p.ManufacturerData = new dbus.Variant('a{qv}', manufacturerDataVariants(s.manufacturerData))
  return p
}
