/**
 * Run the `safehouse` command as a user does (issue 7 §7): a spawned process,
 * answers written to its stdin, exit code and output collected. `startCli`
 * keeps a long-running one (run, walk-test) under the test's control.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../provisioning/cli.ts', import.meta.url))

export interface CliResult { code: number | null; out: string; err: string }

export interface CliOptions {
  /** Written to stdin, then stdin is closed (answers to prompts, one per line). */
  stdin?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
}

export function startCli(args: string[], o: CliOptions = {}): ChildProcess & { output: { out: string; err: string } } {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
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
