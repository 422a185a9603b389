/**
 * Crash safety (issue 6 §1/§6): a process appending a stream is SIGKILLed at
 * seeded random moments; after each kill the log is reopened and every alert
 * whose committed listener fired (and that was not acked) must be pending,
 * in acceptance order, once. Alerts kept from earlier runs must survive the
 * rolls and compactions of later runs.
 */
import t from 'tap'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { FileOutbox } from '../../../gateway/outbox/file-outbox.js'
import { silent, tmpDir } from './outbox-test-kit.js'
import { LONG } from '../../harness/soak-tier.js'

/**
 * SIGKILLs per test, over two logs: 20 in `npm test`, 50 in `.ci/run` (SAFEHOUSE_SOAK=long;
 * issue 14 §5). Every kill is checked the same way; ten per log still kill while opening,
 * appending and acking, and a log grows over several 16 KB segments with alerts kept from its
 * first runs (the segment count is printed); the long tier's 25 per log cross many more rolls
 * and compactions. 50 kills: about 10 s on an idle 2-core machine (28 s at load 17).
 */
const RUNS = LONG ? 50 : 20
t.setTimeout(90_000)
const child = fileURLToPath(new URL('./fixtures/outbox-crash-child.ts', import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))

let seed = 20261124
const rnd = (n: number): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed % n }

/** Children still running, killed at teardown if the test is cut short. */
const live = new Set<ChildProcess>()

interface RunResult { committed: string[]; acked: Set<string>; recoveredAtStart: number }

/**
 * The child and the outbox code it runs (node built-ins only), transpiled by esbuild (the transform
 * tap's loader uses) into one plain module once per run, so each of the 50 starts is plain node:
 * through a TypeScript loader every start cost ~0.5-1 CPU-s in its loader thread (issue 14 §5).
 */
function bundleChild(dir: string): string {
  const out = join(dir, 'outbox-crash-child.mjs')
  buildSync({ entryPoints: [child], outfile: out, bundle: true, format: 'esm', platform: 'node', target: `node${process.versions.node}`, sourcemap: 'inline', logLevel: 'silent' })
  return out
}
let bundled = ''

function runAndKill(dir: string, run: number, killAfterMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--enable-source-maps', bundled, dir, String(run * 7919 + 1), String(run)], {
      // Without tap's NODE_OPTIONS (process-info hooks): they double the child's start-up time.
      cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    })
    live.add(p)
    let out = ''
    let err = ''
    let timer: NodeJS.Timeout | null = null
    const guard = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`run ${run}: child never got ready: ${err}`)) }, 20_000)
    p.stdout.setEncoding('utf8')
    p.stdout.on('data', (s: string) => {
      out += s
      if (timer === null && out.startsWith('R ')) timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs)
    })
    p.stderr.on('data', (s: Buffer) => { err += s.toString() })
    p.on('close', (code, signal) => {
      live.delete(p)
      clearTimeout(guard)
      if (timer) clearTimeout(timer)
      if (signal !== 'SIGKILL') { reject(new Error(`run ${run}: child exited ${code}/${signal}: ${err}`)); return }
      const lines = out.split('\n')
      lines.pop() // a line cut by the kill (or the empty rest after the last newline)
      const committed: string[] = []
      const acked = new Set<string>()
      let recoveredAtStart = -1
      for (const l of lines) {
        if (l.startsWith('C ')) committed.push(l.slice(2))
        else if (l.startsWith('A ')) acked.add(l.slice(2))
        else if (l.startsWith('R ')) recoveredAtStart = Number(l.slice(2))
      }
      resolve({ committed, acked, recoveredAtStart })
    })
  })
}

const key = (id: string): [number, number] => { const [, r, s] = id.split(':'); return [Number(r), Number(s)] }
const before = (a: string, b: string): boolean => { const [ra, sa] = key(a); const [rb, sb] = key(b); return ra < rb || (ra === rb && sa < sb) }

interface ChainResult { kills: number; committed: number; kept: number; repaired: number; segments: number; failure: string | null }

/** One log directory, `runs` child processes each SIGKILLed; checks after every kill. */
async function chain(dir: string, first: number, runs: number): Promise<ChainResult> {
  const kept: string[] = [] // accepted, never acked: must stay pending, in acceptance order
  const res: ChainResult = { kills: 0, committed: 0, kept: 0, repaired: 0, segments: 0, failure: null }
  for (let run = first; run < first + runs; run++) {
    const r = await runAndKill(dir, run, 5 + rnd(80))
    res.kills++
    if (r.recoveredAtStart !== kept.length) return { ...res, failure: `run ${run}: child recovered ${r.recoveredAtStart}, expected ${kept.length}` }
    if (new Set(r.committed).size !== r.committed.length) return { ...res, failure: `run ${run}: an id was committed twice` }
    res.committed += r.committed.length

    const o = new FileOutbox({ dir, log: silent, segmentBytes: 16 * 1024 })
    const opened = await o.open()
    try {
      if (opened.damaged !== null) res.repaired++
      res.segments = Math.max(res.segments, o.stats().segments)
      const pending = o.pending().map((e) => e.id)
      const present = new Set(pending)
      const lost = [...kept, ...r.committed.filter((id) => !r.acked.has(id))].filter((id) => !present.has(id))
      if (lost.length > 0 && process.env.OUTBOX_CRASH_KEEP) console.error('LOST', dir, run, lost.join(' '))
      if (lost.length > 0) return { ...res, failure: `run ${run}: lost ${lost.length} accepted alerts, e.g. ${lost.slice(0, 3).join(' ')} (damage: ${opened.damaged})` }
      for (let i = 1; i < pending.length; i++) {
        if (!before(pending[i - 1], pending[i])) return { ...res, failure: `run ${run}: pending out of order at ${pending[i - 1]}, ${pending[i]}` }
      }
      // Acts as the station: ack what this run left, except every 50th alert, kept for later runs.
      const keptSet = new Set(kept)
      for (const id of pending) {
        if (keptSet.has(id)) continue
        if (key(id)[1] % 50 === 0 && !r.acked.has(id)) kept.push(id)
        else o.ack(id)
      }
    } finally {
      await o.close()
    }
  }
  const o = new FileOutbox({ dir, log: silent, segmentBytes: 16 * 1024 })
  await o.open()
  const pending = o.pending().map((e) => e.id)
  await o.close()
  if (pending.join() !== kept.join()) return { ...res, failure: `at the end: pending ${pending.length} != kept ${kept.length}` }
  return { ...res, kept: kept.length }
}

// Two logs side by side halve the wall time (the child's start-up dominates); 2 x RUNS/2 kills.
// OUTBOX_CRASH_KEEP=1 keeps the logs in /tmp/crashdbg-* for gateway/outbox/outbox-inspect.ts.
t.test(`SIGKILL at ${RUNS} random moments loses no accepted alert`, { timeout: 120_000 }, async (t) => {
  t.teardown(() => { for (const p of live) p.kill('SIGKILL') })
  bundled = bundleChild(tmpDir(t))
  const dirs = process.env.OUTBOX_CRASH_KEEP ? [mkdtempSync('/tmp/crashdbg-'), mkdtempSync('/tmp/crashdbg-')] : [tmpDir(t), tmpDir(t)]
  const results = await Promise.all([chain(dirs[0], 1, RUNS / 2), chain(dirs[1], 1001, RUNS / 2)])
  for (const r of results) {
    if (r.failure !== null) t.fail(r.failure)
    else t.pass(`${r.kills} kills, ${r.committed} alerts accepted, ${r.kept} kept across runs, ${r.repaired} opens repaired a torn tail, up to ${r.segments} segments`)
  }
})
