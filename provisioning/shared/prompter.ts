/**
 * Questions for the technician (issue 7 §6): on a terminal they are asked one
 * by one and a bad answer is asked again; in a script the answers come one per
 * line on stdin, and a bad or missing answer ends the command with an error
 * naming the question (re-reading would shift every later answer by one line).
 * Prompts go to stderr so `--json` output on stdout stays clean. Secrets are
 * never echoed.
 */
import { createInterface, type Interface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'

export class PromptError extends Error {}

export interface AskOptions {
  /** Used when the answer is empty. */
  default?: string
  /** Returns what is wrong with the answer, or null when it is fine. */
  validate?: (answer: string) => string | null
}

export interface PromptIO {
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown }
  output: Writable
}

export class Prompter {
  private readonly tty: boolean
  private lines: Interface | null = null
  private readonly queued: string[] = []
  private readonly waiting: ((line: string | null) => void)[] = []
  private ended = false

  /** `script: true` reads answers as lines even from a terminal (e.g. --password-stdin). */
  constructor(private readonly io: PromptIO = { input: process.stdin, output: process.stderr }, o: { script?: boolean } = {}) {
    this.tty = !o.script && !!io.input.isTTY
  }

  /** Ask until the answer is valid (terminal) or fail on the first bad one (script). */
  async ask(question: string, o: AskOptions = {}): Promise<string> {
    const shown = o.default !== undefined && o.default !== '' ? `${question} [${o.default}]: ` : `${question}: `
    for (;;) {
      const raw = this.tty ? await this.askTerminal(shown) : await this.nextScriptLine(shown)
      if (raw === null) throw new PromptError(`no answer for "${question}" on standard input (give one answer per line, or use the command's flags)`)
      const answer = raw.trim() === '' && o.default !== undefined ? o.default : raw.trim()
      const problem = o.validate?.(answer) ?? null
      if (problem === null) return answer
      if (!this.tty) throw new PromptError(`answer "${maskUrlPassword(answer)}" for "${question}": ${problem}`)
      this.io.output.write(`  ${problem}\n`)
    }
  }

  async confirm(question: string, dflt: boolean): Promise<boolean> {
    const a = await this.ask(`${question} (y/n)`, { default: dflt ? 'y' : 'n', validate: (s) => (/^(y|yes|n|no)$/i.test(s) ? null : 'answer y or n') })
    return /^y/i.test(a)
  }

  async choose<T extends string>(question: string, options: readonly T[], dflt?: T): Promise<T> {
    const a = await this.ask(`${question} (${options.join('/')})`, { default: dflt, validate: (s) => (options.includes(s as T) ? null : `choose one of ${options.join(', ')}`) })
    return a as T
  }

  /** A secret: not echoed on a terminal; one line from stdin in a script. */
  async secret(question: string, o: AskOptions = {}): Promise<string> {
    for (;;) {
      const raw = this.tty ? await this.readHidden(`${question}: `) : await this.nextScriptLine(`${question}: `)
      if (raw === null) throw new PromptError(`no answer for "${question}" on standard input`)
      const answer = raw === '' && o.default !== undefined ? o.default : raw
      const problem = o.validate?.(answer) ?? null
      if (problem === null) return answer
      // Never repeat the secret itself in the message.
      if (!this.tty) throw new PromptError(`the answer for "${question}" is not valid: ${problem}`)
      this.io.output.write(`  ${problem}\n`)
    }
  }

  /** Progress and hints for the person at the terminal (stderr). */
  say(text: string): void {
    this.io.output.write(text + '\n')
  }

  close(): void {
    this.lines?.close()
    this.lines = null
  }

  private askTerminal(shown: string): Promise<string | null> {
    const rl = createInterface({ input: this.io.input, output: this.io.output, terminal: true })
    return new Promise((resolve) => {
      let answered = false
      rl.on('close', () => { if (!answered) resolve(null) })
      rl.question(shown, (a) => { answered = true; rl.close(); resolve(a) })
    })
  }

  /** Script mode: one persistent line reader, so answers buffered together are not lost between questions. */
  private nextScriptLine(shown: string): Promise<string | null> {
    this.io.output.write(shown + '\n')
    if (!this.lines) {
      this.lines = createInterface({ input: this.io.input, terminal: false })
      this.lines.on('line', (l) => {
        const w = this.waiting.shift()
        if (w) w(l.replace(/\r$/, ''))
        else this.queued.push(l.replace(/\r$/, ''))
      })
      this.lines.on('close', () => {
        this.ended = true
        for (const w of this.waiting.splice(0)) w(null)
      })
    }
    const q = this.queued.shift()
    if (q !== undefined) return Promise.resolve(q)
    if (this.ended) return Promise.resolve(null)
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /**
   * Raw-mode read without echo. A 'data' listener, not `for await`: leaving a
   * `for await` over a stream destroys it, and every later question (and the
   * process's stdin) would be gone. Bytes typed after Enter are put back.
   */
  private readHidden(shown: string): Promise<string | null> {
    const input = this.io.input
    this.io.output.write(shown)
    return new Promise((resolve, reject) => {
      const decoder = new StringDecoder('utf8')
      let value = ''
      const finish = (err: Error | null, result: string | null, rest = '') => {
        input.off('data', onData)
        input.off('end', onEnd)
        input.setRawMode?.(false)
        input.pause()
        if (rest) input.unshift(Buffer.from(rest, 'utf8'))
        this.io.output.write('\n')
        if (err) reject(err)
        else resolve(result)
      }
      const onData = (chunk: Buffer | string) => {
        const s = typeof chunk === 'string' ? chunk : decoder.write(chunk)
        let i = 0
        for (const ch of s) {
          i += ch.length
          if (ch === '\r' || ch === '\n') {
            // "\r\n" from a terminal in raw mode is one Enter.
            const rest = s.slice(ch === '\r' && s[i] === '\n' ? i + 1 : i)
            return finish(null, value, rest)
          }
          if (ch === '\u0003') return finish(new PromptError('cancelled'), null)
          if (ch === '\u0004') return finish(null, value === '' ? null : value)
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
          else value += ch
        }
      }
      const onEnd = () => finish(null, value === '' ? null : value)
      input.setRawMode?.(true)
      input.on('data', onData)
      input.once('end', onEnd)
      input.resume()
    })
  }
}

/** A bad answer is quoted back in the error, but never a password written into a URL. */
export function maskUrlPassword(answer: string): string {
  return answer.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@\s]*@/i, '$1:***@')
}
