/**
 * Run a `safehouse` command line in the test's own process (issue 14 §5):
 * runCli(argv, io) — the function the binary calls — with stdin holding the
 * answers and stdout/stderr collected, so a case about arguments, prompts,
 * messages, files and exit codes costs no node start (~0.3-1 CPU-s each).
 * Same result shape as cli() in cli-process.ts; each command keeps at least
 * one case that spawns the real binary.
 */
import { PassThrough, Writable } from 'node:stream'
import { runCli } from '../../provisioning/run-cli.js'
import type { CliIO } from '../../provisioning/cli-io.js'
import type { CliResult } from './cli-process.js'

export interface InProcessOptions {
  /** Answers to prompts, one per line; stdin ends after them (as a pipe does). */
  stdin?: string
  /** Added to this process's environment, as cli() does for a child. */
  env?: NodeJS.ProcessEnv
}

export async function cliInProcess(args: string[], o: InProcessOptions = {}): Promise<CliResult> {
  const { io, text } = collectingIO(o)
  const code = await runCli(args, io)
  return { code, out: text.out, err: text.err }
}

/** Streams for one in-process command: stdin holding `o.stdin`, stdout/stderr collected into `text`. */
export function collectingIO(o: InProcessOptions = {}): { io: CliIO; text: { out: string; err: string } } {
  const stdin = new PassThrough()
  stdin.end(o.stdin ?? '')
  const text = { out: '', err: '' }
  const sink = (k: 'out' | 'err') => new Writable({ write(chunk: Buffer | string, _enc, done) { text[k] += chunk.toString(); done() } })
  return { io: { stdin, stdout: sink('out'), stderr: sink('err'), env: { ...process.env, ...o.env } }, text }
}
