/**
 * The config schema's validator (generated: config-validator.generated.ts),
 * compiled with node:vm so that V8's code cache for it can be used (issue 13
 * §5). Compiling its ~270 KB of code, and then its one large function at the
 * first check, cost ~25 ms of every `safehouse run` before the embedded
 * broker listened; with the cache V8 reads the compiled code instead.
 *
 * The cache (config-validator.v8cache, beside this module: dist/bundle/ for
 * the installed binary) is written by `npm run build` and by `safehouse
 * install` for the Node.js build and V8 flags the service runs with
 * (write-validator-cache.ts). It is an optimisation only, never a source of
 * behaviour: the code is always this package's generated text, and a cache is
 * used only when
 *   - its header names this text's SHA-256 (V8 itself compares the length of
 *     the source only: a cache of an older validator of the same length would
 *     otherwise run the old code), and
 *   - its payload's SHA-256 matches (a file damaged on the SD card is never
 *     handed to V8's deserializer), and
 *   - V8 accepts it (same V8 version and flags; otherwise V8 compiles as if
 *     there were no cache).
 * Without a usable cache the validator compiles from the text as it did
 * before; validatorCacheState() says which happened, for the start's log.
 * docs/decisions.md, "The config validator's V8 code cache".
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
import type { ValidateFunction } from 'ajv'
import { CONFIG_VALIDATOR_SCRIPT, CONFIG_VALIDATOR_SCRIPT_SHA256 } from './config-validator.generated.js'
import { writeFileAtomic } from './atomic-file.js'

/** Where the cache is looked for: beside the module (the bundle's chunk) that holds this code. */
export const VALIDATOR_CACHE_FILE = fileURLToPath(new URL('./config-validator.v8cache', import.meta.url))

/** The script's name in stack traces; the same when the cache is written and read. */
const SCRIPT_NAME = 'safehouse:config-validator.js'
/** File layout: magic, SHA-256 of the script text, SHA-256 of the payload, V8's cache data. */
const MAGIC = Buffer.from('SHV8CC01', 'latin1')
const HEADER = MAGIC.length + 64

/**
 * What became of the cache at this process's compile: used; absent (no file: the sources, tsc's
 * dist/); stale (written for another validator text); corrupt (bad header or payload checksum);
 * rejected (V8: another Node.js build or other V8 flags); unreadable (a read error other than ENOENT).
 */
export type ValidatorCacheState = 'used' | 'absent' | 'stale' | 'corrupt' | 'rejected' | 'unreadable'

let compiled: { validate: ValidateFunction; state: ValidatorCacheState } | null = null

/** The validator, compiled at the first call (with the cache when it is usable). */
export function configValidator(): ValidateFunction {
  compiled ??= compileValidator(VALIDATOR_CACHE_FILE)
  return compiled.validate
}

/** How this process's validator was compiled; null before the first configValidator(). */
export function validatorCacheState(): ValidatorCacheState | null {
  return compiled?.state ?? null
}

/** Compile the validator, using the cache in `file` only if it passes every check above. */
export function compileValidator(file: string): { validate: ValidateFunction; state: ValidatorCacheState } {
  const { data, state } = readCache(file)
  const script = new Script(CONFIG_VALIDATOR_SCRIPT, { filename: SCRIPT_NAME, cachedData: data })
  const validate = script.runInThisContext() as ValidateFunction
  return { validate, state: data === undefined ? state : script.cachedDataRejected ? 'rejected' : 'used' }
}

function readCache(file: string): { data: Buffer | undefined; state: ValidatorCacheState } {
  let raw: Buffer
  try {
    raw = readFileSync(file)
  } catch (e) {
    return { data: undefined, state: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unreadable' }
  }
  if (raw.length <= HEADER || !raw.subarray(0, MAGIC.length).equals(MAGIC)) return { data: undefined, state: 'corrupt' }
  if (raw.toString('hex', MAGIC.length, MAGIC.length + 32) !== CONFIG_VALIDATOR_SCRIPT_SHA256) return { data: undefined, state: 'stale' }
  const payload = raw.subarray(HEADER)
  if (!createHash('sha256').update(payload).digest().equals(raw.subarray(MAGIC.length + 32, HEADER))) return { data: undefined, state: 'corrupt' }
  return { data: payload, state: 'used' }
}

/**
 * Write the cache for the running Node.js build and V8 flags (run it under the flags the service
 * uses: write-validator-cache.ts). The validator runs once first, so the cache holds the compiled
 * code of its function too, not only the script's top level.
 */
export function writeValidatorCache(file = VALIDATOR_CACHE_FILE): void {
  const script = new Script(CONFIG_VALIDATOR_SCRIPT, { filename: SCRIPT_NAME })
  const validate = script.runInThisContext() as ValidateFunction
  validate({ site: 'cache', post: 'cache' })
  const payload = script.createCachedData()
  const header = Buffer.concat([MAGIC, Buffer.from(CONFIG_VALIDATOR_SCRIPT_SHA256, 'hex'), createHash('sha256').update(payload).digest()])
  writeFileAtomic(file, Buffer.concat([header, payload]), 0o644)
}
