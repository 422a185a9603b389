/** Read one secret line: from stdin for scripts, or a prompt that does not echo on a terminal. */
import { PassThrough } from 'node:stream'
import { Prompter } from '../shared/prompter.js'
import { type CliIO, processIO } from '../cli-io.js'

export async function readSecretLine(prompt: string, fromStdin: boolean, io: CliIO = processIO()): Promise<string> {
  // --password-stdin on a terminal still reads a visible line, as `docker login --password-stdin` does.
  const p = new Prompter({ input: io.stdin, output: fromStdin ? new PassThrough() : io.stderr }, { script: fromStdin })
  try {
    return await p.secret(prompt.replace(/: $/, ''))
  } finally {
    p.close()
  }
}
