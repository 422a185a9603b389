/**
 * A simulated `org.bluez` (bluetoothd) for real-stack tests of the BLE
 * transport (issue 4 §6; DESIGN §4 "the BlueZ client against an org.bluez
 * service on a private dbus-daemon").
 *
 *   driver (hw-bluez.ts) -> dbus-next -> private dbus-daemon (bluez-sim-bus.ts) -> BluezSim
 *
 * Usage:
 *   const bus = await new PrivateBus().open()          // t.teardown(() => bus.close())
 *   const sim = await new BluezSim(bus.address).start() // t.teardown(() => sim.stop())
 *   const driver = new HwBluezDriver(ctx, handler, { ...opts, busAddress: bus.address })
 *   sim.advertise('AA:..', { rssi: -60, serviceData: { [BTHOME_UUID]: bytes } })
 *
 * What it models (BlueZ 5.6x behaviour the driver depends on):
 *  - ObjectManager at "/" (GetManagedObjects, InterfacesAdded, InterfacesRemoved);
 *    Adapter1 at /org/bluez/hci0 (Powered rw, Discovering, SetDiscoveryFilter,
 *    StartDiscovery, StopDiscovery, RemoveDevice); Device1 objects with Address,
 *    RSSI, ServiceData a{sv} (Variant('ay')), ManufacturerData a{qv}.
 *  - advertise(): heard only while discovering (a scanner that is off hears nothing).
 *    A new device -> InterfacesAdded carrying RSSI and data; a known one ->
 *    PropertiesChanged. Without DuplicateData in the filter, an unchanged
 *    ServiceData/ManufacturerData is NOT re-emitted (what BlueZ does).
 *  - StartDiscovery while already discovering -> org.bluez.Error.InProgress;
 *    `busyScanner` = another program holds the controller: InProgress and no discovery.
 *  - Powered=false drops discovery (sessions end), Powered=true does not resume it.
 *  - expire(): the 30 s TemporaryTimeout, triggered explicitly -> InterfacesRemoved.
 *  - crashBluetoothd()/restartBluetoothd(): the name org.bluez vanishes (our
 *    connection closes) and returns with a fresh adapter; only `stored` devices survive.
 *  - removeAdapter()/addAdapter(): hot-unplug of the adapter.
 *  - flood(): N adverts per second over M devices, each stamped with the send
 *    time (process.hrtime, CLOCK_MONOTONIC: comparable across processes) in
 *    ManufacturerData company 0xFFFF, for the latency benchmark.
 * Runs in the test process, or in a child (bluez-sim-process.ts) for the flood.
 */
import dbus from 'dbus-next'
import { patchDbusNextIntegerKeys } from './bluez-sim-marshal.js'
import { runFlood, type FloodOptions, type FloodResult } from './bluez-sim-flood.js'
import {
  AdapterIface, DeviceIface, ObjectManagerIface, deviceProps, manufacturerDataVariants, serviceDataVariants,
  type AdapterBehaviour, type SimDeviceState,
} from './bluez-sim-objects.js'

patchDbusNextIntegerKeys()

const { Interface } = dbus.interface
export type MessageBus = ReturnType<typeof dbus.sessionBus>

export { FLOOD_COMPANY_ID, type FloodOptions, type FloodResult } from './bluez-sim-flood.js'

export interface SimAdvert {
  rssi?: number
  serviceData?: Record<string, Buffer>
  manufacturerData?: Record<number, Buffer>
}

function bluezError(name: string, text: string): Error {
  return new dbus.DBusError(name, text)
}

export class BluezSim implements AdapterBehaviour {
  readonly adapterPath: string
  address = '00:1A:7D:DA:71:13'
  powered = true
  discovering = false
  /** Another program holds the controller: StartDiscovery fails with InProgress and nothing starts. */
  busyScanner = false
  /** bluetoothd answers Adapter1 method calls this late (issue 11: a slow peer). */
  callDelayMs = 0
  /** The last SetDiscoveryFilter dict (values unwrapped), for asserts. */
  filter: Record<string, unknown> | null = null
  readonly calls = { setFilter: 0, start: 0, stop: 0, powerOff: 0, powerOn: 0 }
  private bus: MessageBus | null = null
  private om: ObjectManagerIface | null = null
  private adapter: AdapterIface | null = null
  private adapterPresent = true
  private readonly devices = new Map<string, DeviceIface>()

  constructor(readonly busAddress: string, adapter = 'hci0') {
    this.adapterPath = '/org/bluez/' + adapter
  }

  get running(): boolean { return this.bus !== null }

  /** "Start bluetoothd": connect, own org.bluez, export "/" and the adapter. */
  async start(): Promise<this> {
    const bus = dbus.sessionBus({ busAddress: this.busAddress })
    bus.on('error', () => { /* closed under us in crash tests */ })
    // The old owner may still be releasing the name after a crash: retry briefly.
    for (let i = 0; ; i++) {
      const reply = await bus.requestName('org.bluez', dbus.NameFlag.DO_NOT_QUEUE)
      if (reply === dbus.RequestNameReply.PRIMARY_OWNER) break
      if (i > 100) throw new Error('simulated bluetoothd could not own org.bluez')
      await new Promise((r) => setTimeout(r, 20))
    }
    this.bus = bus
    this.om = new ObjectManagerIface(() => this.managedObjects())
    bus.export('/', this.om)
    this.discovering = false
    if (!this.adapterPresent) return this
    // bluetoothd registers the adapter and its stored devices after it owns the name, so
    // clients see InterfacesAdded for them (stored devices: no RSSI until heard again).
    this.exportAdapter()
    this.om.InterfacesAdded(this.adapterPath, { 'org.bluez.Adapter1': this.adapterProps() })
    for (const d of this.devices.values()) {
      this.exportDevice(d)
      this.om.InterfacesAdded(d.state.path, { 'org.bluez.Device1': deviceProps(d.state, this.adapterPath) })
    }
    return this
  }

  /** "bluetoothd crashed": the connection closes, org.bluez has no owner. Temporary devices are lost. */
  async crashBluetoothd(): Promise<void> {
    const bus = this.bus
    if (!bus) return
    this.bus = null
    this.adapter = null
    this.om = null
    this.discovering = false
    for (const [path, d] of this.devices) if (!d.state.stored) this.devices.delete(path)
    // New Interface objects on restart: the old ones stay bound to the closed bus.
    for (const [path, d] of this.devices) {
      d.state.rssi = null
      this.devices.set(path, new DeviceIface(d.state, this.adapterPath))
    }
    bus.disconnect()
    // A method call still in the socket would be answered on the closed stream, which throws
    // out of dbus-next's socket handler: a crashed bluetoothd just does not answer.
    const b = bus as unknown as { send(m: unknown): void; _connection: { message(m: unknown): void } }
    b.send = () => {}
    b._connection.message = () => {}
  }

  async restartBluetoothd(): Promise<void> {
    await this.start()
  }

  async stop(): Promise<void> {
    await this.crashBluetoothd()
  }

  // --- AdapterBehaviour (called by AdapterIface) ----------------------------

  setPowered(on: boolean): void {
    if (on === this.powered) return
    this.powered = on
    if (on) this.calls.powerOn++
    else this.calls.powerOff++
    const changed: Record<string, unknown> = { Powered: on }
    if (!on && this.discovering) { this.discovering = false; changed.Discovering = false }
    if (this.adapter) Interface.emitPropertiesChanged(this.adapter, changed, [])
  }

  setDiscoveryFilter(filter: Record<string, { value: unknown }>): void {
    this.calls.setFilter++
    const f: Record<string, unknown> = {}
    for (const k of Object.keys(filter)) f[k] = filter[k].value
    if (f.Transport !== undefined && !['auto', 'bredr', 'le'].includes(String(f.Transport))) throw bluezError('org.bluez.Error.InvalidArguments', 'Invalid arguments in method call')
    this.filter = f
  }

  startDiscovery(): void {
    this.calls.start++
    if (!this.powered) throw bluezError('org.bluez.Error.NotReady', 'Resource Not Ready')
    if (this.busyScanner || this.discovering) throw bluezError('org.bluez.Error.InProgress', 'Operation already in progress')
    this.setDiscovering(true)
  }

  stopDiscovery(): void {
    this.calls.stop++
    if (!this.powered) throw bluezError('org.bluez.Error.NotReady', 'Resource Not Ready')
    if (!this.discovering) throw bluezError('org.bluez.Error.Failed', 'No discovery started')
    this.setDiscovering(false)
  }

  removeDevice(path: string): void {
    if (!this.devices.has(path)) throw bluezError('org.bluez.Error.DoesNotExist', 'Does Not Exist')
    this.expirePath(path)
  }

  /** Discovery stops by itself (controller hiccup, another tool): emits Discovering=false. */
  setDiscovering(on: boolean): void {
    if (on === this.discovering) return
    this.discovering = on
    if (this.adapter) Interface.emitPropertiesChanged(this.adapter, { Discovering: on }, [])
  }

  // --- adapter hot-plug ------------------------------------------------------

  removeAdapter(): void {
    if (!this.adapterPresent) return
    for (const [path, d] of this.devices) {
      this.om?.InterfacesRemoved(path, ['org.freedesktop.DBus.Properties', 'org.bluez.Device1'])
      this.unexport(path)
      if (!d.state.stored) this.devices.delete(path)
    }
    this.om?.InterfacesRemoved(this.adapterPath, ['org.freedesktop.DBus.Properties', 'org.bluez.Adapter1'])
    this.unexport(this.adapterPath)
    this.adapter = null
    this.adapterPresent = false
    this.discovering = false
  }

  /** The adapter returns; `powered` as BlueZ's AutoEnable would leave it. Stored devices reappear without RSSI. */
  addAdapter(powered = true): void {
    if (this.adapterPresent) return
    this.adapterPresent = true
    this.powered = powered
    this.discovering = false
    if (!this.bus) return
    this.exportAdapter()
    this.om?.InterfacesAdded(this.adapterPath, { 'org.bluez.Adapter1': this.adapterProps() })
    for (const [path, d] of this.devices) {
      d.state.rssi = null
      this.devices.set(path, new DeviceIface(d.state, this.adapterPath))
      this.exportDevice(this.devices.get(path)!)
      this.om?.InterfacesAdded(path, { 'org.bluez.Device1': deviceProps(d.state, this.adapterPath) })
    }
  }

  // --- devices ------------------------------------------------------------------

  devicePath(address: string): string {
    return `${this.adapterPath}/dev_${address.toUpperCase().replaceAll(':', '_')}`
  }

  /**
   * A device already in BlueZ's cache (e.g. before the driver starts): exported
   * with InterfacesAdded like BlueZ does, regardless of discovery.
   */
  addDevice(address: string, advert: SimAdvert, stored = false): void {
    const path = this.devicePath(address)
    const state: SimDeviceState = {
      path, address: address.toUpperCase(), rssi: advert.rssi ?? null,
      serviceData: advert.serviceData ?? null, manufacturerData: advert.manufacturerData ?? null, stored,
    }
    const d = new DeviceIface(state, this.adapterPath)
    this.devices.set(path, d)
    if (this.bus && this.adapterPresent) {
      this.exportDevice(d)
      this.om?.InterfacesAdded(path, { 'org.bluez.Device1': deviceProps(state, this.adapterPath) })
    }
  }

  hasDevice(address: string): boolean {
    return this.devices.has(this.devicePath(address))
  }

  /**
   * One advertisement heard over the air. Returns false when the scanner is
   * off (not discovering), as a real adapter would not hear it.
   */
  advertise(address: string, advert: SimAdvert): boolean {
    if (!this.bus || !this.adapterPresent || !this.discovering) return false
    const path = this.devicePath(address)
    const d = this.devices.get(path)
    if (!d) {
      this.addDevice(address, { rssi: advert.rssi ?? -60, ...advert })
      return true
    }
    const s = d.state
    const dup = this.filter?.DuplicateData === true
    const changed: Record<string, unknown> = {}
    if (advert.rssi !== undefined && advert.rssi !== s.rssi) changed.RSSI = advert.rssi
    s.rssi = advert.rssi ?? s.rssi
    if (advert.serviceData && (dup || !sameData(advert.serviceData, s.serviceData))) changed.ServiceData = serviceDataVariants(advert.serviceData)
    if (advert.serviceData) s.serviceData = advert.serviceData
    if (advert.manufacturerData && (dup || !sameData(advert.manufacturerData, s.manufacturerData))) changed.ManufacturerData = manufacturerDataVariants(advert.manufacturerData)
    if (advert.manufacturerData) s.manufacturerData = advert.manufacturerData
    if (Object.keys(changed).length > 0) Interface.emitPropertiesChanged(d, changed, [])
    return true
  }

  /** The same advertisement `count` times, `gapMs` apart (a button's press burst). Resolves after the last. */
  async pressBurst(address: string, advert: SimAdvert, count = 5, gapMs = 25): Promise<number> {
    let heard = 0
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, gapMs))
      if (this.advertise(address, advert)) heard++
    }
    return heard
  }

  /** BlueZ's 30 s TemporaryTimeout for a quiet device, triggered now: InterfacesRemoved. */
  expire(address: string): void {
    this.expirePath(this.devicePath(address))
  }

  private expirePath(path: string): void {
    if (!this.devices.delete(path)) return
    this.om?.InterfacesRemoved(path, ['org.freedesktop.DBus.Properties', 'org.bluez.Device1'])
    this.unexport(path)
  }

  /**
   * A device babbling garbage (issue 11): `count` adverts from `address` whose service data
   * (BTHome UUID) and manufacturer data are random bytes; `rnd` makes it repeatable.
   */
  babble(address: string, count: number, rnd: () => number, uuid = '0000fcd2-0000-1000-8000-00805f9b34fb'): number {
    let heard = 0
    for (let i = 0; i < count; i++) {
      const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)))
      if (this.advertise(address, { rssi: -40 - Math.floor(rnd() * 50), serviceData: { [uuid]: bytes(1 + Math.floor(rnd() * 28)) }, manufacturerData: { [Math.floor(rnd() * 0xffff)]: bytes(Math.floor(rnd() * 20)) } })) heard++
    }
    return heard
  }

  /** A flood of advertisements; see bluez-sim-flood.ts. */
  flood(o: FloodOptions): Promise<FloodResult> {
    return runFlood(this, o)
  }

  /** The sim's bus connection (null while "bluetoothd" is down), for the flood's raw writes. */
  connection(): MessageBus | null {
    return this.bus
  }

  // --- internals --------------------------------------------------------------

  private unexport(path: string): void {
    // dbus-next's types want an interface; without one it removes every interface on the path.
    ;(this.bus as unknown as { unexport(p: string): void } | null)?.unexport(path)
  }

  private exportAdapter(): void {
    this.adapter = new AdapterIface(this)
    this.bus?.export(this.adapterPath, this.adapter)
  }

  private exportDevice(d: DeviceIface): void {
    this.bus?.export(d.state.path, d)
  }

  private adapterProps(): Record<string, InstanceType<typeof dbus.Variant>> {
    return {
      Address: new dbus.Variant('s', this.address),
      Powered: new dbus.Variant('b', this.powered),
      Discovering: new dbus.Variant('b', this.discovering),
    }
  }

  private managedObjects(): Record<string, Record<string, Record<string, InstanceType<typeof dbus.Variant>>>> {
    const out: Record<string, Record<string, Record<string, InstanceType<typeof dbus.Variant>>>> = {
      '/org/bluez': { 'org.bluez.AgentManager1': {} },
    }
    if (!this.adapterPresent) return out
    out[this.adapterPath] = { 'org.bluez.Adapter1': this.adapterProps() }
    for (const [path, d] of this.devices) out[path] = { 'org.bluez.Device1': deviceProps(d.state, this.adapterPath) }
    return out
  }
}

function sameData(a: Record<string | number, Buffer>, b: Record<string | number, Buffer> | null): boolean {
  if (!b) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!b[k] || !a[k].equals(b[k])) return false
  return true
}
