/**
 * Crash safety (issue 6 §1/§6): a process appending a stream is SIGKILLed at
 * seeded random moments; after each kill the log is reopened and every alert
 * whose committed listener fired (and that was not acked) must be pending,
 * in acceptance order, once. Alerts kept from earlier runs must survive the
 * rolls and compactions of later runs.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { FileOutbox } from '../../../gateway/outbox/file-outbox.js'
import { silent, tmpDir } from './outbox-test-kit.js'

const RUNS = 50
const child = fileURLToPath(new URL('./fixtures/outbox-crash-child.ts', import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))

let seed = 20261124
const rnd = (n: number): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed % n }

interface RunResult { committed: string[]; acked: Set<string>; recoveredAtStart: number }

function runAndKill(dir: string, run: number, killAfterMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(run * 7919 + 1), String(run)], {
      // Without tap's NODE_OPTIONS (process-info hooks): they double the child's start-up time.
      cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    })
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

t.test(`SIGKILL at ${RUNS} random moments loses no accepted alert`, async (t) => {
  const dir = process.env.CRASH_DEBUG ? (await import('node:fs')).mkdtempSync('/tmp/crashdbg-') : tmpDir(t)
  const kept: string[] = [] // accepted, never acked: must be pending forever (acceptance order)
  let totalCommitted = 0
  let damagedOpens = 0
  for (let run = 1; run <= RUNS; run++) {
    const r = await runAndKill(dir, run, 5 + rnd(150))
    if (r.recoveredAtStart !== kept.length) { t.fail(`run ${run}: child recovered ${r.recoveredAtStart}, expected ${kept.length}`); return }
    if (new Set(r.committed).size !== r.committed.length) { t.fail(`run ${run}: an id was committed twice`); return }
    totalCommitted += r.committed.length

    const o = new FileOutbox({ dir, log: silent, segmentBytes: 16 * 1024 })
    const t0 = Date.now()
    const opened = await o.open()
    if (process.env.CRASH_DEBUG) console.error(run, r.committed.length, r.acked.size, kept.length, Date.now() - t0, opened, o.stats().bytes)
    if (opened.damaged !== null) damagedOpens++
    const pending = o.pending().map((e) => e.id)
    const present = new Set(pending)
    const lost = [...kept, ...r.committed.filter((id) => !r.acked.has(id))].filter((id) => !present.has(id))
    if (lost.length > 0 && process.env.CRASH_DEBUG) console.error('LOST', dir, lost, r.acked.size, opened)
    if (lost.length > 0) { t.fail(`run ${run}: lost ${lost.length} accepted alerts`, { lost: lost.slice(0, 5), damaged: opened.damaged }); await o.close(); return }
    for (let i = 1; i < pending.length; i++) {
      if (!before(pending[i - 1], pending[i])) { t.fail(`run ${run}: pending out of order at ${pending[i - 1]}, ${pending[i]}`); await o.close(); return }
    }
    // Acts as the station: ack what this run left, except every 50th alert, kept for later runs.
    const keptSet = new Set(kept)
    for (const id of pending) {
      if (keptSet.has(id)) continue
      if (key(id)[1] % 50 === 0 && !r.acked.has(id)) kept.push(id)
      else o.ack(id)
    }
    await o.close()
  }
  t.pass(`${RUNS} kills, ${totalCommitted} alerts accepted, ${kept.length} kept across runs, ${damagedOpens} opens repaired a torn tail`)
  const o = new FileOutbox({ dir, log: silent, segmentBytes: 16 * 1024 })
  await o.open()
  t.same(o.pending().map((e) => e.id), kept, 'the kept alerts, in acceptance order, once each')
  await o.close()
})
