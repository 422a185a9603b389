/**
 * Recording ends for BLE transport tests: an AdvertHandler that copies every
 * RawAdvert (the transport reuses one object), a DeviceInputSink that records
 * inputs/link changes/counters, and a bounded waitFor for real I/O.
 */
import pino from 'pino'
import { systemClock, type Clock } from '../../devices/time/clock.js'
import type { DeviceInputSink, DeviceLinkStatus, DriverContext } from '../../devices/device-driver.js'
import type { AdvertHandler, RawAdvert } from '../../devices/ble-whistle/raw-advert.js'

export interface AdvertCopy {
  address: string
  rssi: number
  time: number
  cached: boolean
  serviceData: Map<string, Buffer> | null
  manufacturerData: Map<number, Buffer> | null
}

export class RecordingHandler implements AdvertHandler {
  readonly adverts: AdvertCopy[] = []
  onAdvert(a: RawAdvert): void {
    this.adverts.push({
      address: a.address, rssi: a.rssi, time: a.time, cached: a.cached,
      serviceData: a.serviceData ? new Map([...a.serviceData].map(([k, v]) => [k, Buffer.from(v)])) : null,
      manufacturerData: a.manufacturerData ? new Map([...a.manufacturerData].map(([k, v]) => [k, Buffer.from(v)])) : null,
    })
  }
  from(address: string): AdvertCopy[] {
    return this.adverts.filter((a) => a.address === address)
  }
}

export interface InputRecord { device: number; kind: number; value: number; hwTime: number; rssi: number; dedupeKey: number }

export class RecordingSink implements DeviceInputSink {
  readonly inputs: InputRecord[] = []
  readonly links: Array<{ device: number; status: DeviceLinkStatus; reason: string }> = []
  readonly counts = new Map<string, number>()
  /** Optional hook (latency measurement). */
  onInput: ((r: InputRecord) => void) | null = null
  input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number): void {
    const r = { device, kind, value, hwTime, rssi, dedupeKey }
    this.inputs.push(r)
    this.onInput?.(r)
  }
  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.links.push({ device, status, reason })
  }
  count(device: number, counter: string, by = 1): void {
    const k = `${device}:${counter}`
    this.counts.set(k, (this.counts.get(k) ?? 0) + by)
  }
  lastLink(device: number): { status: DeviceLinkStatus; reason: string } | undefined {
    for (let i = this.links.length - 1; i >= 0; i--) if (this.links[i].device === device) return this.links[i]
    return undefined
  }
}

export function testContext(sink: DeviceInputSink, clock: Clock = systemClock): DriverContext {
  return { clock, log: pino({ level: 'silent' }), sink }
}

/** Poll until `cond()` is true; throws with `what` after `timeoutMs` (generous: loaded CI machines). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
