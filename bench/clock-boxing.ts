/**
 * Where the last 16 bytes per input of bench/core-gc.ts come from (issue 13 §2): a fresh
 * timestamp handed to a function that is a real call (not inlined), as a driver hands
 * `clock.now()` to `core.input()`. Each case runs in a `--trace-gc` child (bench/gc-trace.ts,
 * the same counting as core-gc.ts) with 1 MiB semi-spaces (the service's flag); the callee
 * stores the time into a Float64Array, as the event lanes do.
 *
 *   node --import tsx bench/clock-boxing.ts [N]
 */
import { fileURLToPath } from 'node:url'
import { load1, machineLine } from './bench-stats.js'
import { runTraced } from './gc-trace.js'

const slot = new Float64Array(1)
const store = new Float64Array(1024)
let at = 0
function sinkArg(t: number): void { store[at++ & 1023] = t }
function sinkSlot(): void { store[at++ & 1023] = slot[0] }
function hrMs(): number { const t = process.hrtime(); return t[0] * 1e3 + t[1] / 1e6 }
const cached = Date.now()

const CASES: Record<string, () => void> = {
  'Date.now() as the argument (what drivers do today)': () => sinkArg(Date.now()),
  'Date.now() written to a Float64Array slot, the callee reads the slot': () => { slot[0] = Date.now(); sinkSlot() },
  'performance.now() as the argument': () => sinkArg(performance.now()),
  'process.hrtime() read inline, as the argument': () => sinkArg(hrMs()),
  'process.hrtime() read inline, written to a slot': () => { slot[0] = hrMs(); sinkSlot() },
  'one cached timestamp (the same heap number) as the argument': () => sinkArg(cached),
}

if (process.argv[2] === '--case') {
  const f = CASES[process.argv[3]]
  const n = Number(process.argv[4])
  const loop = (k: number): void => { for (let i = 0; i < k; i++) f() }
  loop(300_000)
  loop(300_000)
  const gc = (globalThis as { gc?: () => void }).gc!
  gc()
  loop(n)
  gc()
  process.stderr.write(`#RESULT {}\n`)
  process.exit(0)
}

const N = Number(process.argv[2] ?? 1_000_000)
const loadBefore = load1()
const started = new Date()
const rows: string[] = []
for (const [name] of Object.entries(CASES)) {
  for (const inlining of [true, false]) {
    const r = await runTraced<object>(fileURLToPath(import.meta.url), ['--case', name, String(N)],
      ['--max-semi-space-size=1', ...(inlining ? [] : ['--max-inlined-bytecode-size=0'])])
    const t = r.trace
    rows.push(`| ${name} | ${inlining ? 'default' : 'off'} | ${t ? t.scavenges : 'not measured'} | ${t ? (t.allocatedBytes / N).toFixed(1) : ''} |`)
  }
}
console.log(`${machineLine(started)}; load ${loadBefore} before, ${load1()} after. Command: \`node --import tsx bench/clock-boxing.ts ${N}\`
(each case in a child: \`node --import tsx --expose-gc --trace-gc --max-semi-space-size=1 [--max-inlined-bytecode-size=0] bench/clock-boxing.ts --case NAME ${N}\`).

| time read, per call | inlining | scavenges / ${N.toLocaleString('en')} (--trace-gc) | bytes/call |
|---|---|---:|---:|
${rows.join('\n')}`)
