/** A command line the user got wrong: printed without a stack, exit code 2. */
export class UsageError extends Error {}
