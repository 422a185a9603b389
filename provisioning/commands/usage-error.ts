/**
 * One voice for command-line mistakes (issue 14 §2): every command answers an
 * unknown option or a bad argument the same way — exit 2, one line naming it,
 * then "run `safehouse CMD --help`" (printed by cli.ts, see usageText()).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A command line the user got wrong: printed without a stack, exit code 2. */
export class UsageError extends Error {
  /** `command`: the (sub)command whose --help to point to, e.g. "config check"; default: the top-level command. */
  constructor(message: string, readonly command?: string) {
    super(message)
  }
}

/** node:util parseArgs' own error text, as one short line naming the option or argument. */
export function parseArgsMessage(e: NodeJS.ErrnoException): string {
  const m = e.message
  const quoted = /'([^']+)'/.exec(m)?.[1] ?? ''
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${quoted}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument "${quoted}"`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const opt = /(--[\w-]+)/.exec(quoted)?.[1] ?? quoted.split(' ')[0]
      if (/argument missing/.test(m)) return `option ${opt} needs a value`
      if (/does not take an argument/.test(m)) return `option ${opt} takes no value`
      return m.split('.')[0]
    }
    default: return m.split('\n')[0]
  }
}

/** True for the errors node:util parseArgs throws (they are usage errors too). */
export function isParseArgsError(e: unknown): e is NodeJS.ErrnoException {
  return String((e as NodeJS.ErrnoException | null)?.code).startsWith('ERR_PARSE_ARGS')
}

/**
 * Run node:util parseArgs; its own errors (unknown option, missing value)
 * become usage errors naming the option. `_hint` is accepted for older
 * callers and ignored: the pointer to --help is printed once, by cli.ts.
 */
export function parseFlags<T>(parse: () => T, _hint?: string, command?: string): T {
  try {
    return parse()
  } catch (e) {
    if (isParseArgsError(e)) throw new UsageError(parseArgsMessage(e), command)
    throw e
  }
}

/** parseArgs with strict options, its errors as usage errors of `command` (e.g. "config check"). */
export function parseCommand<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  return parseFlags(() => parseArgs(config), undefined, command)
}

/** What cli.ts prints for a usage error: the message, then where to read the options. */
export function usageText(command: string, message: string): string {
  return `safehouse ${command}: ${message}\nrun \`safehouse ${command} --help\``
}

/** Run a subcommand (config check, user add, pair ble...): its usage errors point to its own --help. */
export async function asSubcommand<T>(command: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (e) {
    if (e instanceof UsageError && !e.command) throw new UsageError(e.message, command)
    if (isParseArgsError(e)) throw new UsageError(parseArgsMessage(e), command)
    throw e
  }
}
