/**
 * Child-process entry for the simulated org.bluez (bluez-sim.ts), so a flood
 * of advertisements is produced on another CPU, as bluetoothd would, and the
 * process under test only pays for receiving. Driven by BluezSimProcess over
 * the IPC channel ('advanced' serialization: Buffers survive). Exits when the
 * parent disconnects, so a crashed test leaves no orphan.
 */
import { BluezSim, type SimAdvert } from './bluez-sim.js'

interface Request { id: number; method: string; args: unknown[] }

const busAddress = process.argv[2]
if (!busAddress || !process.send) {
  console.error('usage: forked by BluezSimProcess with the bus address as argv[2]')
  process.exit(2)
}
const sim = new BluezSim(busAddress)

function asBuffers(a: SimAdvert): SimAdvert {
  const fix = <K extends string | number>(r: Record<K, Uint8Array> | undefined) => {
    if (!r) return undefined
    const out = {} as Record<K, Buffer>
    for (const k of Object.keys(r) as K[]) out[k] = Buffer.from(r[k].buffer, r[k].byteOffset, r[k].byteLength)
    return out
  }
  return { rssi: a.rssi, serviceData: fix(a.serviceData), manufacturerData: fix(a.manufacturerData) }
}

const methods: Record<string, (...args: never[]) => unknown> = {
  start: async () => { await sim.start() },
  stop: () => sim.stop(),
  crashBluetoothd: () => sim.crashBluetoothd(),
  restartBluetoothd: () => sim.restartBluetoothd(),
  advertise: (address: string, a: SimAdvert) => sim.advertise(address, asBuffers(a)),
  /** Returns when each repeat was sent (process.hrtime ms, CLOCK_MONOTONIC). */
  pressBurst: async (address: string, a: SimAdvert, count: number, gapMs: number) => {
    const sentAt: number[] = []
    const adv = asBuffers(a)
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, gapMs))
      // Stamp before sending (as the flood does): a stamp taken after could land after the receiver ran.
      const at = Number(process.hrtime.bigint()) / 1e6
      if (sim.advertise(address, adv)) sentAt.push(at)
    }
    return sentAt
  },
  flood: (o: Parameters<BluezSim['flood']>[0]) => sim.flood(o),
  expire: (address: string) => sim.expire(address),
  state: () => ({ powered: sim.powered, discovering: sim.discovering, filter: sim.filter, calls: sim.calls }),
}

process.on('message', (req: Request) => {
  const fn = methods[req.method]
  Promise.resolve()
    .then(() => {
      if (!fn) throw new Error(`unknown sim method ${req.method}`)
      return (fn as (...a: unknown[]) => unknown)(...req.args)
    })
    .then(
      (result) => process.send!({ id: req.id, ok: true, result }),
      (e: unknown) => process.send!({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    )
})
process.on('disconnect', () => { void sim.stop().finally(() => process.exit(0)) })
process.send({ ready: true })
