/**
 * BLE decode benchmark (issue 4 §7). Run: node --import tsx bench/ble-decode.ts
 *
 * 1. Decode throughput on one core: BTHome plain, BTHome encrypted
 *    (AES-128-CCM via node:crypto), iBeacon. Timed in batches; median and
 *    p99 over the batches.
 * 2. Allocation: minor GCs (scavenges) over 1,000,000 plain adverts through
 *    decode + WhistleReceiver (address lookup, dedupe, alert mapping, sink),
 *    after warm-up, counted with PerformanceObserver on 'gc'. Target: 0.
 *
 * Prints a Markdown section for bench/RESULTS.md.
 */
import { cpus, totalmem } from 'node:os'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { createCipheriv, createSecretKey } from 'node:crypto'
import { systemClock } from '../devices/time/clock.js'
import { BLE_WHISTLE_DEFAULTS } from '../devices/ble-whistle/config.js'
import { BTHOME_UUID, type RawAdvert } from '../devices/ble-whistle/raw-advert.js'
import { MemoryReplayCounterStore } from '../devices/ble-whistle/replay-store.js'
import { WhistleReceiver, type WhistleDeviceSpec } from '../devices/ble-whistle/whistle-receiver.js'
import type { DeviceInputSink } from '../devices/device-driver.js'
import { BTHomeReading, decodeBTHome } from '../protocols/ble/bthome.js'
import { decodeIBeacon, IBeaconReading } from '../protocols/ble/ibeacon.js'
import { percentileSorted } from './bench-stats.js'

const BATCH = 10_000
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')

/** Runs `batches` batches of BATCH calls; returns ns per call, sorted. */
function timeBatches(batches: number, fn: (i: number) => void): number[] {
  const out: number[] = []
  let i = 0
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < BATCH; k++) fn(i++)
    out.push(Number(process.hrtime.bigint() - t0) / BATCH)
  }
  return out.sort((a, c) => a - c)
}

function row(name: string, nsSorted: number[]): string {
  const med = percentileSorted(nsSorted, 50)
  const p99 = percentileSorted(nsSorted, 99)
  return `| ${name} | ${Math.round(1e9 / med).toLocaleString('en-US')} | ${med.toFixed(0)} | ${p99.toFixed(0)} |`
}

// --- inputs -----------------------------------------------------------------
const KEY = hex('231d39c1d7cc1ab1aee224cd096db932')
const MAC = hex('5448E68F80A5')
const PLAIN = Array.from({ length: 256 }, (_, pid) => Buffer.from([0x44, 0x00, pid, 0x01, 0x64, 0x3a, pid % 8 === 0 ? 1 : 0]))
function encrypt(objects: Buffer, counter: number): Buffer {
  const ctr = Buffer.alloc(4)
  ctr.writeUInt32LE(counter)
  const c = createCipheriv('aes-128-ccm', KEY, Buffer.concat([MAC, hex('d2fc41'), ctr]), { authTagLength: 4 })
  const ct = Buffer.concat([c.update(objects), c.final()])
  return Buffer.concat([hex('41'), ct, ctr, c.getAuthTag()])
}
const ENCRYPTED = Array.from({ length: 256 }, (_, i) => encrypt(hex(`00${i.toString(16).padStart(2, '0')} 0164 3A01`), 1000 + i))
const IBEACON = hex('0215 83256B7478D043A4826905F9DC8A44BA 0010 0020 C6')

// --- 1. throughput --------------------------------------------------------------
const bt = new BTHomeReading()
const ib = new IBeaconReading()
const keyObj = createSecretKey(KEY)
let sinkHole = 0
const plainNs = timeBatches(300, (i) => { if (decodeBTHome(PLAIN[i & 255], bt, null, null).ok) sinkHole += bt.packetId })
const encNs = timeBatches(40, (i) => { if (decodeBTHome(ENCRYPTED[i & 255], bt, keyObj, MAC).ok) sinkHole += bt.packetId })
const ibNs = timeBatches(300, () => { if (decodeIBeacon(IBEACON, ib).ok) sinkHole += ib.minor })

// --- 2. minor GCs through decode + receiver ----------------------------------------
class CountingSink implements DeviceInputSink {
  inputs = 0
  alerts = 0
  counts = 0
  input(_d: number, kind: number): void {
    this.inputs++
    if (kind < 32) this.alerts++
  }
  linkStatus(): void {}
  count(): void {
    this.counts++
  }
}
const DEVICES = 16
const specs: WhistleDeviceSpec[] = Array.from({ length: DEVICES }, (_, d) => ({
  index: d,
  config: { ...BLE_WHISTLE_DEFAULTS, kind: 'ble-whistle' as const, id: `w${d}`, address: `3C:2E:F5:00:00:${d.toString(16).padStart(2, '0').toUpperCase()}`, alert_kind: 'whistle' as const },
}))
const addresses = [...specs.map((s) => s.config.address), 'AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02'] // + unknown devices
const sink = new CountingSink()
const rx = new WhistleReceiver({ devices: specs, sink, clock: systemClock, replayStore: new MemoryReplayCounterStore() })
// The transport contract: one reused RawAdvert (and Map) per delivery.
const sd = new Map<string, Buffer>([[BTHOME_UUID, PLAIN[0]]])
const advert: RawAdvert = { address: addresses[0], rssi: -60, time: Date.now(), serviceData: sd, manufacturerData: null, cached: false }
const t0 = advert.time
function feed(i: number): void {
  // Bursts: 8 repeats of one packet from one device, devices round-robin; every 8th packet id
  // carries a press (the others are 0x00 "no event"). Receive time advances 1 ms per burst.
  const burst = i >>> 3
  advert.address = addresses[burst % addresses.length]
  sd.set(BTHOME_UUID, PLAIN[((burst / addresses.length) | 0) & 255])
  advert.time = t0 + burst
  advert.rssi = -60 - (i & 15)
  rx.onAdvert(advert)
}
const N = 1_000_000
for (let i = 0; i < 300_000; i++) feed(i) // warm-up: let V8 optimise
const gcs: { kind: number }[] = []
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind })
})
obs.observe({ entryTypes: ['gc'] })
await new Promise((r) => setTimeout(r, 50))
gcs.length = 0
sink.inputs = sink.alerts = sink.counts = 0
const g0 = process.hrtime.bigint()
for (let i = 0; i < N; i++) feed(i)
const gNs = Number(process.hrtime.bigint() - g0) / N
await new Promise((r) => setTimeout(r, 100))
obs.disconnect()
const minor = gcs.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MINOR).length
const major = gcs.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length

// Decode-only allocation check.
const d0 = gcs.length
const obs2 = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind })
})
obs2.observe({ entryTypes: ['gc'] })
for (let i = 0; i < N; i++) if (decodeBTHome(PLAIN[i & 255], bt, null, null).ok) sinkHole += bt.packetId
await new Promise((r) => setTimeout(r, 100))
obs2.disconnect()
const decodeMinor = gcs.slice(d0).filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MINOR).length

const cpu = cpus()[0]
console.log(`## BLE decode (bench/ble-decode.ts)

${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu?.model ?? 'unknown CPU'} (${cpus().length} cores, one used), ${Math.round(totalmem() / 2 ** 30)} GiB RAM.

### Decode throughput (one core)

Batches of ${BATCH.toLocaleString('en-US')} decodes; median and p99 over the batches.

| advert | adverts/s (median) | ns/advert median | ns/advert p99 |
|---|---:|---:|---:|
${row('BTHome v2 plain (packet id, battery, button)', plainNs)}
${row('BTHome v2 encrypted (AES-128-CCM, node:crypto)', encNs)}
${row('iBeacon', ibNs)}

### Allocation: 1,000,000 plain adverts through decode + WhistleReceiver

${DEVICES} configured devices + 2 unknown addresses, round-robin bursts of 8 identical repeats (1 ms of receive time per burst; every 8th packet a press), after ${(300_000).toLocaleString('en-US')} warm-up adverts.
Receiver path: ${gNs.toFixed(0)} ns/advert (${Math.round(1e9 / gNs).toLocaleString('en-US')} adverts/s); sink saw ${sink.inputs.toLocaleString('en-US')} inputs (${sink.alerts.toLocaleString('en-US')} alerts).

| path | minor GCs (scavenge) | major GCs |
|---|---:|---:|
| decode + receiver (1,000,000 adverts) | ${minor} | ${major} |
| decodeBTHome only (1,000,000 adverts) | ${decodeMinor} | - |

Target: 0 minor GCs.${sinkHole === -1 ? ' ' : ''}
`)
