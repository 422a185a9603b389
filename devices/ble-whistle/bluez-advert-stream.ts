/**
 * BlueZ Device1 signals -> RawAdvert deliveries (the hot path; no dbus-next
 * import: it works on the values dbus-next unmarshalled).
 *
 * Where an advertisement shows up on D-Bus (issue 4 §2):
 *  - PropertiesChanged(Device1, {RSSI?, ServiceData?, ManufacturerData?}) for a
 *    device BlueZ already knows. With DuplicateData on, BlueZ emits it for every
 *    advertisement, even an identical one.
 *  - InterfacesAdded(path, {Device1: {...}}) when BlueZ creates the device
 *    object: the first advert of a device, and again after BlueZ dropped it
 *    (temporary devices expire after 30 s, main.conf TemporaryTimeout), so a
 *    button's next press usually arrives this way.
 *  - GetManagedObjects at start: devices BlueZ had cached before we looked.
 *    Their data may be minutes old: delivered with cached=true, never an alert.
 *
 * One RawAdvert and two FieldSlots are reused for every delivery (raw-advert.ts says
 * handlers copy what they keep). A device table keyed by object path keeps
 * the address (parsed once per device) and the last RSSI, because a
 * PropertiesChanged carries only what changed.
 */
import type { Clock } from '../time/clock.js'
import type { AdvertHandler, RawAdvert } from './raw-advert.js'
import {
  addressFromDevicePath, FieldSlots, fillManufacturerData, fillServiceData, rssiFromVariant, unwrapVariant, variantValue,
} from './bluez-variants.js'

interface DeviceEntry {
  address: string
  rssi: number
}

/**
 * At most this many device objects are remembered (issue 11 §9). A busy street of phones with
 * random addresses creates a BlueZ object per address; BlueZ drops each after 30 s
 * (InterfacesRemoved), but a removal we never see (a signal lost while the bus was flooded, a
 * bluetoothd that keeps objects) would grow the table without bound. Past the cap the oldest
 * entry is forgotten: its next advert re-learns the address from the object path, and its
 * RSSI from that advert (a PropertiesChanged without RSSI then reports it as unknown once).
 */
export const MAX_TRACKED_DEVICES = 4096

export interface AdvertStreamStats {
  delivered: number
  cachedDelivered: number
  handlerErrors: number
  devices: number
  /** Entries forgotten because the table was full (MAX_TRACKED_DEVICES). */
  evicted: number
}

export class BluezAdvertStream {
  private readonly devices = new Map<string, DeviceEntry>()
  private readonly serviceData = new FieldSlots<string>()
  private readonly manufacturerData = new FieldSlots<number>()
  private readonly advert: RawAdvert = {
    address: '', rssi: NaN, time: 0, serviceData: null, manufacturerData: null, cached: false,
  }
  private devicePrefix: string
  readonly stats: AdvertStreamStats = { delivered: 0, cachedDelivered: 0, handlerErrors: 0, devices: 0, evicted: 0 }

  constructor(
    private readonly clock: Clock,
    private readonly handler: AdvertHandler,
    adapterObjectPath: string,
    /** Called after every live (non-cached) delivery: the watchdog's kick. */
    private readonly onLive: () => void,
    /** Called when the handler throws (a bug in the handler; counted, never fatal). */
    private readonly onHandlerError: (e: unknown) => void,
  ) {
    this.devicePrefix = adapterObjectPath + '/dev_'
  }

  /** PropertiesChanged on org.bluez.Device1 at `path`. */
  propertiesChanged(path: string, changed: Record<string, unknown>): void {
    const rssiV = changed.RSSI
    const sdV = changed.ServiceData
    const mdV = changed.ManufacturerData
    // Connected, Alias, ServicesResolved...: not an advertisement.
    if (rssiV === undefined && sdV === undefined && mdV === undefined) return
    if (!path.startsWith(this.devicePrefix)) return
    let entry = this.devices.get(path)
    if (entry === undefined) {
      // Object created before we subscribed (or while we were resetting): learn it now.
      const address = addressFromDevicePath(path)
      if (address === null) return
      entry = { address, rssi: NaN }
      this.remember(path, entry)
    }
    if (rssiV !== undefined) entry.rssi = rssiFromVariant(rssiV)
    this.deliver(entry, sdV, mdV, false)
  }

  /** InterfacesAdded with a Device1 dict. */
  deviceAdded(path: string, props: Record<string, unknown>, cachedAtStart: boolean): void {
    if (!path.startsWith(this.devicePrefix)) return
    const addr = variantValue(props, 'Address')
    const address = typeof addr === 'string' ? addr.toUpperCase() : addressFromDevicePath(path)
    if (address === null) return
    const rssiV = props.RSSI
    const entry: DeviceEntry = { address, rssi: rssiFromVariant(rssiV) }
    this.remember(path, entry)
    const sdV = props.ServiceData
    const mdV = props.ManufacturerData
    if (rssiV === undefined && sdV === undefined && mdV === undefined) return
    // A Device1 that appears without RSSI was loaded from BlueZ's storage
    // (/var/lib/bluetooth, e.g. after the adapter returned), not received over
    // the air just now: BlueZ exposes RSSI only once it heard the device
    // (device.c dev_property_exists_rssi). Its data is old: cached.
    this.deliver(entry, sdV, mdV, cachedAtStart || rssiV === undefined)
  }

  deviceRemoved(path: string): void {
    if (this.devices.delete(path)) this.stats.devices = this.devices.size
  }

  private remember(path: string, entry: DeviceEntry): void {
    const d = this.devices
    if (d.size >= MAX_TRACKED_DEVICES && !d.has(path)) {
      d.delete(d.keys().next().value as string) // the oldest learned (Map keeps insertion order)
      this.stats.evicted++
    }
    d.set(path, entry)
    this.stats.devices = d.size
  }

  /** Forget every device (bluetoothd or the adapter went away). */
  clear(): void {
    this.devices.clear()
    this.stats.devices = 0
  }

  private deliver(entry: DeviceEntry, sdV: unknown, mdV: unknown, cached: boolean): void {
    const a = this.advert
    a.address = entry.address
    a.rssi = entry.rssi
    // Date.now() boxes a 16-byte heap number per read on Node 20 (bench/core-gc.ts: the one
    // allocation left on this path: 16 MB, ~4 scavenges per 1M adverts). A zero-allocation stamp
    // (hrtime into a Float64Array) allocated more once inlined here: not worth its fragility.
    a.time = this.clock.now()
    // Fields absent from this signal are null: BlueZ with DuplicateData re-sends
    // everything an advertisement carried, so "absent" means "not in it".
    a.serviceData = sdV !== undefined && fillServiceData(this.serviceData, unwrapVariant(sdV)) > 0 ? this.serviceData : null
    a.manufacturerData = mdV !== undefined && fillManufacturerData(this.manufacturerData, unwrapVariant(mdV)) > 0 ? this.manufacturerData : null
    a.cached = cached
    if (cached) this.stats.cachedDelivered++
    else this.stats.delivered++
    try {
      this.handler.onAdvert(a)
    } catch (e) {
      this.stats.handlerErrors++
      this.onHandlerError(e)
    }
    if (!cached) this.onLive()
  }
}
