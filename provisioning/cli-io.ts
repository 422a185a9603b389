/**
 * The streams and environment a `safehouse` command talks through (issue 14 §5).
 * The installed binary passes the process's own (processIO()); a test runs a
 * command in-process with its own streams (runCli in run-cli.ts), so argument
 * handling, prompts, messages and exit codes are checked without a new node
 * process per case. Commands write here, not to console.* / process.std*.
 */
import type { Readable, Writable } from 'node:stream'

export interface CliIO {
  /** Answers to prompts; a terminal has isTTY/setRawMode (hidden passwords). */
  stdin: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown }
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  /** Read for $SAFEHOUSE_PASSWORD and the like; never written. */
  env: NodeJS.ProcessEnv
}

/**
 * The process's own streams and environment: what the installed command uses. Each stream is
 * made at its first use, as process.std* themselves are: `safehouse run` never reads stdin, and
 * making process.stdin (an fs or tty ReadStream) cost ~3 ms before its broker listened (issue 13 §5).
 */
export function processIO(): CliIO {
  return {
    get stdin() { return process.stdin },
    get stdout() { return process.stdout },
    get stderr() { return process.stderr },
    env: process.env,
  }
}

/** One line of text to a stream (what console.log did for a string). */
export function println(stream: Writable, text: string): void {
  stream.write(text + '\n')
}
