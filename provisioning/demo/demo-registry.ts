/**
 * How other commands (`simulate`, `status`) find a running demo (issue 14 §2,
 * §3): each demo writes `demo.json` (mode 0600) into its own temp directory
 * (`safehouse-demo-*`), so several demos can run at once and a crashed one
 * leaves nothing that misleads the next (its pid is no longer alive).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../commands/usage-error.js'

export interface DemoLogin { username: string; password: string }

export interface DemoInfo {
  pid: number
  /** The embedded broker's port on 127.0.0.1. */
  port: number
  site: string
  post: string
  configFile: string
  simulator: DemoLogin
  technician: DemoLogin
}

const DIR_PREFIX = 'safehouse-demo-'
const INFO = 'demo.json'

export function writeDemoInfo(dir: string, info: DemoInfo): void {
  writeFileSync(join(dir, INFO), JSON.stringify(info), { mode: 0o600 })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Every demo running on this machine (for this user's temp directory). */
export function runningDemos(dir = tmpdir()): DemoInfo[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(DIR_PREFIX))
  } catch {
    return []
  }
  const out: DemoInfo[] = []
  for (const n of names) {
    try {
      const info = JSON.parse(readFileSync(join(dir, n, INFO), 'utf8')) as DemoInfo
      if (Number.isInteger(info.pid) && alive(info.pid)) out.push(info)
    } catch { /* not a demo directory, being set up, or not ours to read */ }
  }
  return out
}

/** The running demo to use: the one with `pid`, or the only one. */
export function pickDemo(pid?: string): DemoInfo {
  const demos = runningDemos()
  if (pid !== undefined) {
    const d = demos.find((x) => String(x.pid) === pid)
    if (!d) throw new UsageError(`no running demo with pid ${pid}${demos.length ? ` (running: ${demos.map((x) => x.pid).join(', ')})` : ''}`)
    return d
  }
  if (demos.length === 1) return demos[0]
  if (!demos.length) throw new DemoNotFound('no running demo found: start one with `npx safehouse demo` (or `npm start`) in another terminal, or give --config FILE of a running gateway')
  throw new UsageError(`${demos.length} demos are running (pids ${demos.map((x) => x.pid).join(', ')}): choose one with --demo PID`)
}

/** Nothing to talk to: not a usage mistake (exit 1). */
export class DemoNotFound extends Error {}
