/**
 * Lamp-box alarm latency (issue 5 §5): from `setPattern('alarm')` to the
 * write request's last byte arriving at the Modbus slave on the far end of a
 * PTY pair, while the driver polls. Real stack: HwModbusLampBox (modbus-serial
 * + serialport) on one end, test/harness/lamp-box-slave.ts on the other.
 *
 * A PTY has no baud rate, so this measures the gateway's software share plus
 * the OS; on a real RS-485 line add the frame times printed below. Each run
 * starts at a random phase of the poll cycle, so runs that land while a poll
 * is in flight (the write waits for that one transaction) are included.
 *
 *   node --import tsx bench/lamp-latency.ts [runs]
 */
import os from 'node:os'
import { lampBoxRig } from '../test/harness/lamp-box-rig.js'
import { seededRandom } from '../test/harness/lamp-box-slave.js'
import { PATTERN_CODE } from '../protocols/lamp-box/register-map.js'
import { percentileSorted } from './bench-stats.js'

interface Scenario { name: string; pollMs: number; replyDelayMs: number; runs: number }

const runsArg = Number(process.argv[2] ?? 0)
const scenarios: Scenario[] = [
  { name: 'poll every 100 ms', pollMs: 100, replyDelayMs: 0, runs: runsArg || 400 },
  { name: 'poll every 100 ms, slave replies after 17 ms (a 19200 8E1 poll reply on the wire)', pollMs: 100, replyDelayMs: 17, runs: runsArg || 400 },
  { name: 'poll every 1000 ms', pollMs: 1000, replyDelayMs: 0, runs: Math.ceil((runsArg || 400) / 4) },
]

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function measure(s: Scenario): Promise<number[]> {
  const rig = await lampBoxRig({ poll_ms: s.pollMs, timeout_ms: 500, alarm_hold_s: 3600 })
  const rnd = seededRandom(42)
  const samples: number[] = []
  try {
    rig.slave.replyDelayMs = s.replyDelayMs
    await rig.driver.start(rig.abort.signal)
    await rig.sink.waitFor('online', () => rig.sink.lastLink?.status === 'online')
    let want = -1
    let arrived = 0
    rig.slave.onPatternWrite = (p, at) => { if (p === want && arrived === 0) arrived = at }
    for (let i = 0; i < s.runs; i++) {
      await sleep(rnd() * s.pollMs) // random phase against the poll cycle
      const pattern = i % 2 === 0 ? 'alarm' : 'normal'
      want = PATTERN_CODE[pattern]
      arrived = 0
      const t0 = performance.now()
      rig.driver.setPattern(pattern, 'bench')
      while (arrived === 0) await sleep(1)
      samples.push(arrived - t0)
    }
  } finally {
    await rig.close()
  }
  return samples
}

const lines: string[] = []
lines.push('## Lamp box: setPattern(alarm) to write request on the wire (PTY)')
lines.push('')
lines.push(`${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${os.platform()} ${os.release()}, Node ${process.version}; load avg ${os.loadavg()[0].toFixed(2)}`)
lines.push('')
lines.push('| scenario | runs | p50 ms | p99 ms | max ms |')
lines.push('|---|---:|---:|---:|---:|')
for (const s of scenarios) {
  const v = (await measure(s)).sort((a, b) => a - b)
  lines.push(`| ${s.name} | ${v.length} | ${percentileSorted(v, 50).toFixed(2)} | ${percentileSorted(v, 99).toFixed(2)} | ${v[v.length - 1].toFixed(2)} |`)
}
lines.push('')
lines.push('On a real line at 19200 baud 8E1 (11 bits a character) add the frame times: the pattern write')
lines.push('(FC16, 15 bytes) takes 8.6 ms; a write that lands during a poll first waits for the rest of that')
lines.push('transaction (request 8 bytes 4.6 ms + reply 29 bytes 16.6 ms, at most timeout_ms if the reply never comes).')
console.log(lines.join('\n'))
