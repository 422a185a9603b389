/**
 * The config validator's V8 code cache (issue 13 §5, gateway/config/
 * config-validator.ts): used when it is this validator's, and otherwise never
 * handed to V8 or refused by it, with the validator then compiled from its text
 * as before. In every case it accepts and rejects exactly what the schema does.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileValidator, writeValidatorCache, type ValidatorCacheState } from '../../../gateway/config/config-validator.js'
import { SERVICE_NODE_FLAGS } from '../../../provisioning/install/exec-start.js'
import { tmpDir } from '../../harness/cli-process.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/** A valid config (defaults filled in by the validator) and an invalid one. */
const good = () => ({ site: 's1', post: 'p1', broker: { port: 1884 }, devices: [{ id: 'b', kind: 'panic-button', driver: 'sim' }] })
const bad = () => ({ site: 's1', post: 'P1', broker: { port: 99999 }, devices: [{ id: 'b', kind: 'panic-button', driver: 'sim', debounce_ms: -1 }, { id: 'w', kind: 'whistle' }] })

/** What the validator makes of both, to compare a cached compile with one from the text. */
function verdicts(file: string): { state: ValidatorCacheState; good: unknown; bad: unknown } {
  const { validate, state } = compileValidator(file)
  const g = good()
  const okGood = validate(g)
  const b = bad()
  const okBad = validate(b)
  return { state, good: { ok: okGood, data: g }, bad: { ok: okBad, errors: validate.errors?.map((e) => [e.instancePath, e.keyword, e.params]) } }
}

t.test('no cache: compiled from the text, as before', async (t) => {
  const v = verdicts(join(tmpDir(t), 'none.v8cache'))
  t.equal(v.state, 'absent')
  t.match(v.good, { ok: true, data: { broker: { port: 1884, host: '127.0.0.1' } } }, 'valid, defaults filled in')
  t.match(v.bad, { ok: false }, 'invalid')
})

t.test('a damaged or foreign cache never reaches V8; the validator still works', async (t) => {
  const dir = tmpDir(t)
  const file = join(dir, 'c.v8cache')
  writeValidatorCache(file)
  const raw = readFileSync(file)
  const variant = (name: string, mutate: (b: Buffer) => Buffer): string => {
    const f = join(dir, name)
    writeFileSync(f, mutate(Buffer.from(raw)))
    return f
  }
  const flip = (at: number) => (b: Buffer) => { b[at] ^= 0xff; return b }
  const cases: [string, string, ValidatorCacheState][] = [
    // The header names another validator text: V8 compares only the source's length, so a cache of
    // an older validator of the same length would otherwise run the old checks.
    ['another validator text', variant('stale.v8cache', flip(8 + 5)), 'stale'],
    ['a flipped payload byte (an SD card going bad)', variant('payload.v8cache', flip(raw.length - 100)), 'corrupt'],
    ['a flipped payload checksum byte', variant('sum.v8cache', flip(8 + 32 + 1)), 'corrupt'],
    ['cut short', variant('short.v8cache', (b) => b.subarray(0, raw.length - 1000)), 'corrupt'],
    ['no header at all', variant('empty.v8cache', () => Buffer.alloc(0)), 'corrupt'],
    ['another file format', variant('magic.v8cache', flip(0)), 'corrupt'],
  ]
  const expected = verdicts(join(dir, 'none.v8cache'))
  for (const [what, f, state] of cases) {
    const v = verdicts(f)
    t.equal(v.state, state, what)
    t.same({ ...v, state: null }, { ...expected, state: null }, `${what}: the same verdicts`)
  }
})

/** In a fresh node (the service's flags unless said): the state and what the validator made of a minimal config. */
function inChild(args: string[], flags: readonly string[] = SERVICE_NODE_FLAGS): string {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return r.stdout
}
const stateIn = (file: string, flags?: readonly string[]) =>
  JSON.parse(inChild([join(ROOT, 'test/harness/validator-cache-state.ts'), file], flags)) as { state: ValidatorCacheState; valid: boolean; data: unknown }

t.test('V8 uses a cache written by the same node under the same flags, and refuses it under others', async (t) => {
  const file = join(tmpDir(t), 'c.v8cache')
  t.match(inChild([join(ROOT, 'gateway/config/write-validator-cache.ts'), file]), `wrote ${file}`)
  const used = stateIn(file)
  t.equal(used.state, 'used', 'the compiled code came from the cache')
  const plain = stateIn(file, [])
  t.equal(plain.state, 'rejected', 'without the service flags V8 refuses it and compiles from the text')
  const none = stateIn(file + '.none')
  t.equal(none.state, 'absent')
  t.same([used.valid, used.data], [none.valid, none.data], 'the same verdict and defaults from the cache')
  t.same([plain.valid, plain.data], [none.valid, none.data], 'and after a refusal')
  t.match(none, { valid: true, data: { broker: { host: '127.0.0.1', port: 1883 } } })
})
