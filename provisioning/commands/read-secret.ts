/** Read one secret line: from stdin for scripts, or a prompt that does not echo on a terminal. */
import { createInterface } from 'node:readline'

export async function readSecretLine(prompt: string, fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin })
    for await (const line of rl) {
      rl.close()
      return line.replace(/\r$/, '')
    }
    throw new Error('no password on standard input')
  }
  process.stderr.write(prompt)
  const stdin = process.stdin
  stdin.setRawMode(true)
  stdin.resume()
  let value = ''
  try {
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n') return value
        if (ch === '\u0003') throw new Error('cancelled')
        if (ch === '\u007f') value = value.slice(0, -1)
        else value += ch
      }
    }
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write('\n')
  }
  return value
}
