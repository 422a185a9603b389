/**
 * Honest GC counts (issue 13 §3): a bench row runs in a child process with
 * `--trace-gc`, and the counts come from V8's own trace, not only from a
 * PerformanceObserver (which reported 0 GCs on a row where the trace showed
 * 219 scavenges and 5 full GCs). The child brackets the measured section
 * with two forced GCs (`gc()`, reason "testing" in the trace); everything
 * between the last two of them is the measured window.
 *
 * Bytes allocated in the window are read from the heap sizes the trace
 * prints around each GC (MB with one decimal): the growth before each GC
 * plus the growth before the closing forced GC. Resolution is 0.1 MB per
 * GC line, i.e. 0.1 bytes per event over 1,000,000 events.
 */
import { spawn } from 'node:child_process'

export interface TraceWindow {
  scavenges: number
  fullGcs: number
  /** Bytes allocated between the two forced GCs (from the trace's heap sizes). */
  allocatedBytes: number
  /** Bytes the GCs in the window freed. */
  freedBytes: number
}

const LINE = /: (Scavenge|Minor Mark-Compact|Mark-Compact \(reduce\)|Mark-Compact|Mark-sweep)\s+([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/

export function parseTraceWindow(trace: string): TraceWindow | null {
  const gcs: { kind: string; before: number; after: number; testing: boolean }[] = []
  for (const line of trace.split('\n')) {
    const m = LINE.exec(line)
    if (m) gcs.push({ kind: m[1], before: +m[2], after: +m[4], testing: line.includes('testing') })
  }
  let end = -1
  for (let i = gcs.length - 1; i >= 0; i--) if (gcs[i].testing) { end = i; break }
  let start = -1
  for (let i = end - 1; i >= 0; i--) if (gcs[i].testing) { start = i; break }
  if (start < 0) return null
  let scavenges = 0
  let fullGcs = 0
  let allocMb = 0
  let freedMb = 0
  let prev = gcs[start].after
  for (let i = start + 1; i <= end; i++) {
    const g = gcs[i]
    allocMb += Math.max(0, g.before - prev)
    prev = g.after
    if (i === end) break
    freedMb += Math.max(0, g.before - g.after)
    if (g.kind === 'Scavenge' || g.kind === 'Minor Mark-Compact') scavenges++
    else fullGcs++
  }
  return { scavenges, fullGcs, allocatedBytes: allocMb * 1024 * 1024, freedBytes: freedMb * 1024 * 1024 }
}

export interface ChildRow<R> {
  trace: TraceWindow | null
  /** What the child printed as `#RESULT {json}` on stderr. */
  result: R | null
  stderr: string
  code: number | null
}

/** Run `node --import tsx --expose-gc --trace-gc SCRIPT ...args` and read its trace and result. */
export function runTraced<R>(script: string, args: string[], extraNodeArgs: string[] = []): Promise<ChildRow<R>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', '--trace-gc', ...extraNodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('close', (code) => {
      const m = /^#RESULT (.*)$/m.exec(err)
      resolve({ trace: parseTraceWindow(out), result: m ? (JSON.parse(m[1]) as R) : null, stderr: err, code })
    })
  })
}
