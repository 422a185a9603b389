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

/** The process's own streams and environment: what the installed command uses. */
export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }
}

/** One line of text to a stream (what console.log did for a string). */
export function println(stream: Writable, text: string): void {
  stream.write(text + '\n')
}
