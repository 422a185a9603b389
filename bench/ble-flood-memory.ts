/**
 * Memory under a BLE flood (issue 11 §9): the whole gateway (`ble.driver:
 * bluez` on a private dbus-daemon, the simulated bluetoothd in a child
 * process) takes a flood of adverts from many addresses, then the street goes
 * quiet. RSS and V8 heap are sampled before, at the peak, and after the flood
 * (after a forced GC and a settle time): what the flood costs must come back.
 *
 * Run: node --import tsx --expose-gc bench/ble-flood-memory.ts [seconds=10] [rate=10000] [devices=2000] [quiet_s=20]
 */
import os from 'node:os'
import { PrivateBus } from '../test/harness/bluez-sim-bus.js'
import { BluezSimProcess } from '../test/harness/bluez-sim-process.js'
import { testGateway } from '../test/harness/test-gateway.js'

const SECONDS = Number(process.argv[2] ?? 10)
const RATE = Number(process.argv[3] ?? 10_000)
const DEVICES = Number(process.argv[4] ?? 2000)
const QUIET_S = Number(process.argv[5] ?? 20)
const MiB = 1024 * 1024

interface Sample { rss: number; heap: number; external: number }
const sample = (): Sample => { const m = process.memoryUsage(); return { rss: m.rss / MiB, heap: m.heapUsed / MiB, external: (m.external + m.arrayBuffers) / MiB } }
const gc = (): void => { (globalThis as { gc?: () => void }).gc?.() }
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  const bus = await new PrivateBus().open()
  const sim = await new BluezSimProcess(bus.address).open()
  const { gw, cleanup } = await testGateway({
    extra: {
      ble: { driver: 'bluez', bus_address: bus.address },
      devices: [{ id: 'whistle-1', kind: 'ble-whistle', address: 'AA:BB:CC:00:70:01', alert_kind: 'whistle' }],
    },
  })
  await gw.start()
  while (!(await sim.state()).discovering) await sleep(50)
  await sleep(1000)
  gc()
  const before = sample()
  let peak = before
  const timer = setInterval(() => { const s = sample(); if (s.rss > peak.rss) peak = s }, 100)
  const r = await sim.flood({ perSecond: RATE, durationMs: SECONDS * 1000, devices: DEVICES })
  clearInterval(timer)
  // First as production runs (no forced GC: what the tester saw), then after a forced full GC.
  await sleep(QUIET_S * 1000)
  const quiet = sample()
  gc()
  await sleep(200)
  const after = sample()
  const f = (x: number): string => x.toFixed(1)
  const lines = [
    '## BLE flood memory (issue 11 §9)',
    '',
    `Whole gateway, \`ble.driver: bluez\`, simulated bluetoothd in a child process; ${r.sent} adverts in ${Math.round((r.ms ?? 0) / 1000)} s (${RATE}/s target) from ${DEVICES} addresses, then ${QUIET_S} s quiet. ${os.cpus().length} cores.`,
    '',
    '| | RSS MiB | V8 heap used MiB | external + array buffers MiB |',
    '|---|---:|---:|---:|',
    `| before | ${f(before.rss)} | ${f(before.heap)} | ${f(before.external)} |`,
    `| peak (by RSS) | ${f(peak.rss)} | ${f(peak.heap)} | ${f(peak.external)} |`,
    `| ${QUIET_S} s quiet, no forced GC | ${f(quiet.rss)} | ${f(quiet.heap)} | ${f(quiet.external)} |`,
    `| then a forced full GC | ${f(after.rss)} | ${f(after.heap)} | ${f(after.external)} |`,
    '',
    `Heap after − before: ${f(after.heap - before.heap)} MiB; RSS after − before: ${f(after.rss - before.rss)} MiB.`,
  ]
  console.log(lines.join('\n'))
  await cleanup()
  await sim.close()
  await bus.close()
}

await main()
