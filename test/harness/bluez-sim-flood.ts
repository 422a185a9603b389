/**
 * Advertisement flood for the simulated org.bluez (bluez-sim.ts): a busy
 * street (phones, tags, beacons) at N adverts per second.
 *
 * Each advert is a Device1 PropertiesChanged {RSSI, ManufacturerData 0xFFFF =
 * [send time ms as float64 LE (process.hrtime, CLOCK_MONOTONIC, comparable
 * across processes), seq u32 LE]}, round-robin over `devices` objects that are
 * first created the normal way (InterfacesAdded; seq 0xffffffff).
 *
 * Like bluetoothd (C), the flood must cost the sender little, or the sender
 * and not the driver is what gets measured: each device's signal is
 * marshalled once by dbus-next, then copied, patched (serial, stamp, seq) and
 * written to the bus socket directly (~2 us instead of ~50 us per message).
 */
import dbus from 'dbus-next'
import { createRequire } from 'node:module'
import { manufacturerDataVariants } from './bluez-sim-objects.js'

/** What the flood needs of the simulation: a narrow view, so this file does not import bluez-sim.ts back (issue 18). */
export interface FloodTarget {
  advertise(address: string, advert: { rssi: number; manufacturerData: Record<number, Buffer> }): boolean
  devicePath(address: string): string
  connection(): dbus.MessageBus | null
  readonly discovering: boolean
}

export const FLOOD_COMPANY_ID = 0xffff

export interface FloodOptions {
  perSecond: number
  durationMs: number
  /** Distinct flood devices. Default 200. */
  devices?: number
}

/** sent = stamped flood adverts; heard = everything emitted incl. the device set-up adverts; ms = flood duration. */
export interface FloodResult { sent: number; heard: number; ms?: number }

/** dbus-next's own message marshaller (header + body). */
const marshallRaw: (msg: InstanceType<typeof dbus.Message>) => Buffer = (() => {
  const compat = createRequire(import.meta.url)('dbus-next/lib/marshall-compat.js') as { marshallMessage(msg: unknown): [Buffer, unknown] }
  return (msg) => compat.marshallMessage(msg)[0]
})()

export async function runFlood(sim: FloodTarget, o: FloodOptions): Promise<FloodResult> {
  const n = o.devices ?? 200
  const templates: Array<{ buf: Buffer; at: number }> = []
  const marker = Buffer.from([0xa5, 0x5a, 0xc3, 0x3c, 0x96, 0x69, 0x0f, 0xf0, 0x11, 0xee, 0x22, 0xdd])
  let heard = 0
  for (let i = 0; i < n; i++) {
    const address = `F1:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`.toUpperCase()
    const first = Buffer.alloc(12)
    first.writeUInt32LE(0xffffffff, 8)
    if (sim.advertise(address, { rssi: -80 - (i % 15), manufacturerData: { [FLOOD_COMPANY_ID]: first } })) heard++
    const msg = dbus.Message.newSignal(sim.devicePath(address), 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as', [
      'org.bluez.Device1',
      { RSSI: new dbus.Variant('n', -80 - (i % 15)), ManufacturerData: new dbus.Variant('a{qv}', manufacturerDataVariants({ [FLOOD_COMPANY_ID]: marker })) },
      [],
    ])
    msg.serial = 1
    const buf = marshallRaw(msg)
    templates.push({ buf, at: buf.indexOf(marker) })
  }
  const bus = sim.connection()
  if (!bus || !sim.discovering) return { sent: 0, heard }
  const socket = (bus as unknown as { _connection: { stream: { write(b: Buffer): boolean } } })._connection.stream
  const total = Math.round((o.perSecond * o.durationMs) / 1000)
  const start = performance.now()
  let sent = 0
  while (sent < total && sim.connection() === bus && sim.discovering) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * o.perSecond) / 1000))
    while (sent < due) {
      const tpl = templates[sent % n]
      const m = Buffer.from(tpl.buf)
      m.writeUInt32LE(bus.newSerial(), 8)
      m.writeDoubleLE(Number(process.hrtime.bigint()) / 1e6, tpl.at)
      m.writeUInt32LE(sent, tpl.at + 8)
      socket.write(m)
      sent++
    }
    // Yield to I/O (socket writes, a concurrent test's press commands) every ~1 ms.
    await new Promise((r) => setTimeout(r, 1))
  }
  return { sent, heard: heard + sent, ms: performance.now() - start }
}
