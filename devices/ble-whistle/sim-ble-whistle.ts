/**
 * Simulated twin of the BLE transport (DESIGN §4), for the demo and unit
 * tests: the same RawAdvert delivery as hw-bluez.ts (one reused RawAdvert,
 * cached devices first with cached=true, async start), driven by the injected
 * Clock so bursts spread over ~100 ms run instantly under FakeClock.
 *
 * Also holds the tiny advertisement *encoders* (BTHome v2 plain and
 * AES-CCM encrypted, iBeacon) that the sim and the D-Bus test harness use:
 * protocols/ble/ only decodes, and a test that encodes with the decoder's own
 * code would prove nothing. Formats: bthome.io/format and /encryption, Apple
 * "Proximity Beacon Specification" r1.
 */
import { createCipheriv } from 'node:crypto'
import type { TimerHandle } from '../time/clock.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import { APPLE_COMPANY_ID, BTHOME_UUID, type AdvertHandler, type RawAdvert } from './raw-advert.js'

// --- encoders -------------------------------------------------------------

export const BTHOME_BUTTON = { NONE: 0x00, PRESS: 0x01, DOUBLE: 0x02, TRIPLE: 0x03, LONG: 0x04, HOLD: 0x80 } as const

export interface BTHomeFields {
  /** Object 0x00 (0-255). */
  packetId?: number
  /** Object 0x01, %. */
  battery?: number
  /** One 0x3A object per entry (button 1, 2, ...). */
  buttons?: readonly number[]
  /** Device info bit 2: advertises only on a trigger (Shelly BLU Button1 sets it). */
  triggerBased?: boolean
}

/** The BTHome objects, ids ascending as bthome.io/format asks. */
export function bthomeObjects(f: BTHomeFields): Buffer {
  const bytes: number[] = []
  if (f.packetId !== undefined) bytes.push(0x00, f.packetId & 0xff)
  if (f.battery !== undefined) bytes.push(0x01, f.battery & 0xff)
  for (const b of f.buttons ?? []) bytes.push(0x3a, b & 0xff)
  return Buffer.from(bytes)
}

/** Plaintext service data for UUID 0xFCD2 (without the UUID): [device info 0x40|trigger][objects]. */
export function bthomeServiceData(f: BTHomeFields): Buffer {
  return Buffer.concat([Buffer.from([0x40 | (f.triggerBased ? 0x04 : 0)]), bthomeObjects(f)])
}

/** "AA:BB:CC:DD:EE:FF" -> 6 bytes in display order (the order the BTHome nonce uses). */
export function macBytes(address: string): Buffer {
  return Buffer.from(address.replaceAll(':', ''), 'hex')
}

/**
 * Encrypted BTHome v2 (bthome.io/encryption): AES-128-CCM, 4-byte MIC, no AAD,
 * nonce = MAC(6) + UUID LE (d2 fc) + device info + counter (u32 LE).
 * Layout: [device info 0x41|trigger][ciphertext][counter LE 4][MIC 4].
 */
export function bthomeEncrypted(f: BTHomeFields, key: Buffer, address: string, counter: number): Buffer {
  return bthomeEncryptObjects(bthomeObjects(f), key, address, counter, f.triggerBased ?? false)
}

/** Encrypt ready-made BTHome objects (for spec vectors with objects bthomeObjects does not write). */
export function bthomeEncryptObjects(objects: Buffer, key: Buffer, address: string, counter: number, triggerBased = false): Buffer {
  const info = 0x41 | (triggerBased ? 0x04 : 0)
  const ctr = Buffer.alloc(4)
  ctr.writeUInt32LE(counter >>> 0)
  const nonce = Buffer.concat([macBytes(address), Buffer.from([0xd2, 0xfc, info]), ctr])
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 })
  const cipher = Buffer.concat([c.update(objects), c.final()])
  return Buffer.concat([Buffer.from([info]), cipher, ctr, c.getAuthTag()])
}

/** iBeacon manufacturer data for company 0x004C (without the company id): 02 15 uuid major minor tx. */
export function ibeaconManufacturerData(uuid: string, major: number, minor: number, txPower = -59): Buffer {
  const b = Buffer.alloc(23)
  b[0] = 0x02
  b[1] = 0x15
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(b, 2)
  b.writeUInt16BE(major, 18)
  b.writeUInt16BE(minor, 20)
  b.writeInt8(txPower, 22)
  return b
}

// --- the simulated transport ---------------------------------------------

export interface SimAdvertInit {
  rssi?: number
  serviceData?: ReadonlyMap<string, Buffer> | Record<string, Buffer>
  manufacturerData?: ReadonlyMap<number, Buffer> | Record<number, Buffer>
}

export interface SimBleWhistleOptions {
  /** Device index of the gateway/adapter (link status goes there). */
  gatewayDevice: number
  /** Simulated time to "open the adapter" (async start). Default 5 ms. */
  openDelayMs?: number
}

export interface PressBurstOptions {
  packetId: number
  /** Button event; default PRESS. */
  button?: number
  battery?: number
  /** Repeats of the same advertisement (Shelly BLU Button1 sends a burst). Default 5. */
  repeats?: number
  /** Burst length in ms. Default 100. */
  spanMs?: number
  rssi?: number
  /** When set, the burst is encrypted with this key and counter. */
  key?: Buffer
  counter?: number
}

export class SimBleWhistle implements DeviceDriver {
  readonly kind = 'ble-whistle' as const
  private readonly advert: RawAdvert = { address: '', rssi: NaN, time: 0, serviceData: null, manufacturerData: null, cached: false }
  private readonly sd = new Map<string, Buffer>()
  private readonly md = new Map<number, Buffer>()
  private readonly cachedAtStart: Array<[string, SimAdvertInit]> = []
  private readonly timers = new Set<TimerHandle>()
  private running = false
  /** Deliveries so far, for tests. */
  delivered = 0

  constructor(private readonly ctx: DriverContext, private readonly handler: AdvertHandler, private readonly opts: SimBleWhistleOptions) {}

  /** A device BlueZ would already have cached when the gateway starts (delivered cached=true on start). */
  cache(address: string, init: SimAdvertInit): this {
    this.cachedAtStart.push([address, init])
    return this
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running || signal.aborted) return
    this.ctx.sink.linkStatus(this.opts.gatewayDevice, 'starting', 'simulated adapter opening')
    await new Promise<void>((resolve) => this.later(this.opts.openDelayMs ?? 5, resolve))
    if (signal.aborted) return
    this.running = true
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    for (const [address, init] of this.cachedAtStart) this.deliver(address, init, true)
    this.ctx.sink.linkStatus(this.opts.gatewayDevice, 'online', 'simulated adapter scanning')
  }

  async stop(): Promise<void> {
    for (const t of this.timers) this.ctx.clock.clearTimeout(t)
    this.timers.clear()
    if (!this.running) return
    this.running = false
    this.ctx.sink.linkStatus(this.opts.gatewayDevice, 'offline', 'stopped')
  }

  /** One advertisement now. Dropped (false) when not started, as a real scanner would not hear it. */
  advertise(address: string, init: SimAdvertInit): boolean {
    if (!this.running) return false
    this.deliver(address, init, false)
    return true
  }

  /** A press: the same BTHome advertisement `repeats` times spread over `spanMs`. */
  pressBurst(address: string, o: PressBurstOptions): void {
    const fields: BTHomeFields = { packetId: o.packetId, battery: o.battery, buttons: [o.button ?? BTHOME_BUTTON.PRESS], triggerBased: true }
    const data = o.key ? bthomeEncrypted(fields, o.key, address, o.counter ?? 0) : bthomeServiceData(fields)
    this.burst(address, { rssi: o.rssi ?? -60, serviceData: { [BTHOME_UUID]: data } }, o.repeats ?? 5, o.spanMs ?? 100)
  }

  /** A beacon-mode BTHome advertisement with battery only (no button event). */
  battery(address: string, percent: number, packetId: number, rssi = -70): boolean {
    return this.advertise(address, { rssi, serviceData: { [BTHOME_UUID]: bthomeServiceData({ packetId, battery: percent }) } })
  }

  /** An iBeacon advertisement. */
  beacon(address: string, uuid: string, major: number, minor: number, rssi = -70): boolean {
    return this.advertise(address, { rssi, manufacturerData: { [APPLE_COMPANY_ID]: ibeaconManufacturerData(uuid, major, minor) } })
  }

  /** The same advertisement `repeats` times over `spanMs` (first one now). */
  burst(address: string, init: SimAdvertInit, repeats: number, spanMs: number): void {
    this.advertise(address, init)
    const gap = repeats > 1 ? spanMs / (repeats - 1) : 0
    for (let i = 1; i < repeats; i++) this.later(gap * i, () => this.advertise(address, init))
  }

  private later(ms: number, fn: () => void): void {
    const t = this.ctx.clock.setTimeout(() => { this.timers.delete(t); fn() }, ms)
    this.timers.add(t)
  }

  private deliver(address: string, init: SimAdvertInit, cached: boolean): void {
    const a = this.advert
    a.address = address.toUpperCase()
    a.rssi = init.rssi ?? NaN
    a.time = this.ctx.clock.now()
    a.serviceData = fillByUuid(this.sd, init.serviceData) ? this.sd : null
    a.manufacturerData = fillByCompany(this.md, init.manufacturerData) ? this.md : null
    a.cached = cached
    this.delivered++
    this.handler.onAdvert(a)
  }
}

function fillByUuid(target: Map<string, Buffer>, src: SimAdvertInit['serviceData']): boolean {
  target.clear()
  if (src instanceof Map) for (const [k, v] of src) target.set(k, v)
  else if (src) for (const k of Object.keys(src)) target.set(k, (src as Record<string, Buffer>)[k])
  return target.size > 0
}

function fillByCompany(target: Map<number, Buffer>, src: SimAdvertInit['manufacturerData']): boolean {
  target.clear()
  if (src instanceof Map) for (const [k, v] of src) target.set(k, v)
  else if (src) for (const k of Object.keys(src)) target.set(Number(k), (src as Record<number, Buffer>)[Number(k)])
  return target.size > 0
}
