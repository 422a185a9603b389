/** Helpers for WhistleReceiver tests: a recording sink, adverts, configs, and a BTHome encryptor. */
import { createCipheriv } from 'node:crypto'
import { BLE_WHISTLE_DEFAULTS, type BleWhistleConfig } from '../../../devices/ble-whistle/config.js'
import { APPLE_COMPANY_ID, BTHOME_UUID, EDDYSTONE_UUID, type RawAdvert } from '../../../devices/ble-whistle/raw-advert.js'
import type { DeviceInputSink, DeviceLinkStatus } from '../../../devices/device-driver.js'

export const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')

export interface Input { device: number; kind: number; value: number; hwTime: number; rssi: number; dedupeKey: number; flags?: number }

export class RecordingSink implements DeviceInputSink {
  inputs: Input[] = []
  counts = new Map<string, number>()
  links: { device: number; status: DeviceLinkStatus; reason: string }[] = []
  input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number, flags = 0): void {
    this.inputs.push({ device, kind, value, hwTime, rssi, dedupeKey, ...(flags ? { flags } : {}) })
  }
  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.links.push({ device, status, reason })
  }
  count(device: number, counter: string, by = 1): void {
    const k = `${device}:${counter}`
    this.counts.set(k, (this.counts.get(k) ?? 0) + by)
  }
  of(kind: number): Input[] {
    return this.inputs.filter((i) => i.kind === kind)
  }
  counted(device: number, counter: string): number {
    return this.counts.get(`${device}:${counter}`) ?? 0
  }
  clear(): void {
    this.inputs = []
    this.counts.clear()
  }
}

export function config(over: Partial<BleWhistleConfig> & { id: string; address: string }): BleWhistleConfig {
  return { ...BLE_WHISTLE_DEFAULTS, kind: 'ble-whistle', ...over }
}

export function bthomeAdvert(address: string, serviceData: Buffer, over: Partial<RawAdvert> = {}): RawAdvert {
  return { address, rssi: -60, time: 1_700_000_000_000, serviceData: new Map([[BTHOME_UUID, serviceData]]), manufacturerData: null, cached: false, ...over }
}

export function ibeaconAdvert(address: string, frame: Buffer, over: Partial<RawAdvert> = {}): RawAdvert {
  return { address, rssi: -70, time: 1_700_000_000_000, serviceData: null, manufacturerData: new Map([[APPLE_COMPANY_ID, frame]]), cached: false, ...over }
}

export function eddystoneAdvert(address: string, frame: Buffer, over: Partial<RawAdvert> = {}): RawAdvert {
  return { address, rssi: -70, time: 1_700_000_000_000, serviceData: new Map([[EDDYSTONE_UUID, frame]]), manufacturerData: null, cached: false, ...over }
}

/** Encrypts BTHome objects the way bthome.io/encryption describes; returns service data without the UUID. */
export function encryptBTHome(objects: Buffer, key: Buffer, address: string, counter: number, deviceInfo = 0x41): Buffer {
  const ctr = Buffer.alloc(4)
  ctr.writeUInt32LE(counter >>> 0)
  const nonce = Buffer.concat([hex(address.replace(/:/g, '')), hex('d2fc'), Buffer.from([deviceInfo]), ctr])
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 })
  const ct = Buffer.concat([c.update(objects), c.final()])
  return Buffer.concat([Buffer.from([deviceInfo]), ct, ctr, c.getAuthTag()])
}
