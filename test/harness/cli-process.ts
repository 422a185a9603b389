/**
 * Run the `safehouse` command as a user does (issue 7 §7): a spawned process,
 * answers written to its stdin, exit code and output collected. `startCli`
 * keeps a long-running one (run, walk-test) under the test's control.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childEnv, prebuiltRoot } from './prebuilt-cli.js'
import { spawnDaemon } from './spawn-daemon.js'

/** The CLI's source (for a test that runs it through tsx itself). */
export const CLI = fileURLToPath(new URL('../../provisioning/cli.ts', import.meta.url))

/**
 * How the tests start `safehouse`: plain node on the transpiled copy of the
 * current sources (prebuilt-cli.ts; ~1 s of CPU less per spawn than tsx), or
 * through tsx from the sources when a test is about running from them.
 */
export function cliCommand(o: { source?: boolean } = {}): string[] {
  return o.source ? [process.execPath, '--import', 'tsx', CLI] : [process.execPath, join(prebuiltRoot(), 'provisioning', 'cli.js')]
}

export interface CliResult { code: number | null; out: string; err: string }

export interface CliOptions {
  /** Written to stdin, then stdin is closed (answers to prompts, one per line). */
  stdin?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  /** Run the TypeScript sources through tsx instead of the transpiled copy. */
  source?: boolean
}

export function startCli(args: string[], o: CliOptions = {}): ChildProcess & { output: { out: string; err: string } } {
  const [node, ...pre] = cliCommand(o)
  // A long-running one (run, station) is a daemon: it must not outlive a test that tap SIGKILLs.
  const p = spawnDaemon(node!, [...pre, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: o.cwd,
    env: childEnv({ ...process.env, ...o.env }),
  })
  const output = { out: '', err: '' }
  p.stdout!.on('data', (d: Buffer) => { output.out += d })
  p.stderr!.on('data', (d: Buffer) => { output.err += d })
  // A child that exits before reading its stdin makes a write fail with EPIPE: that is its answer, not ours.
  p.stdin!.on('error', () => {})
  if (o.stdin !== undefined) p.stdin!.end(o.stdin)
  return Object.assign(p, { output })
}

export function cli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = startCli(args, { ...o, stdin: o.stdin ?? '' })
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 30_000)
    p.on('exit', (code) => {
      clearTimeout(timer)
      // 'exit' can come before the pipes are drained.
      setImmediate(() => resolve({ code, out: p.output.out, err: p.output.err }))
    })
  })
}

/** A temporary directory removed when the test ends. */
export function tmpDir(t: { teardown: (f: () => void) => void }, prefix = 'safehouse-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
