/** A command line the user got wrong: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/**
 * Run node:util parseArgs; its own errors (unknown option, missing value) become
 * usage errors (exit 2), with `hint` (where to read the options) after the message.
 */
export function parseFlags<T>(parse: () => T, hint: string): T {
  try {
    return parse()
  } catch (e) {
    throw new UsageError(`${(e as Error).message}${hint}`)
  }
}
