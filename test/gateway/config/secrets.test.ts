import t from 'tap'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emptySecrets, loadSecrets, SecretsError, writeSecrets, type Secrets } from '../../../gateway/config/secrets.js'
import { hashPassword, verifyPassword } from '../../../gateway/config/password-hash.js'

const dir = mkdtempSync(join(tmpdir(), 'safehouse-secrets-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function secretsFile(text: string, mode = 0o600): string {
  const f = join(dir, `secrets-${n++}.yaml`)
  writeFileSync(f, text, { mode })
  chmodSync(f, mode) // writeFileSync's mode is filtered by the umask
  return f
}

const KEY = '231d39c1d7cc1ab1aee224cd096db932'
const GOOD = `station_password: s3cret\nbroker_passwords:\n  panel-1: scrypt$1024$8$1$abc$def\nble_keys:\n  whistle-07: ${KEY}\n`

t.test('a 0600 file loads', async (t) => {
  const s = loadSecrets(secretsFile(GOOD), {})
  t.same(s, { station_password: 's3cret', broker_passwords: { 'panel-1': 'scrypt$1024$8$1$abc$def' }, ble_keys: { 'whistle-07': KEY } })
})

t.test('an empty 0600 file and no file at all give empty secrets', async (t) => {
  t.same(loadSecrets(secretsFile(''), {}), emptySecrets())
  t.same(loadSecrets(null, {}), emptySecrets())
})

t.test('a file others can read is refused with a chmod hint', async (t) => {
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    const f = secretsFile(GOOD, mode)
    t.throws(() => loadSecrets(f, {}), { name: 'Error', code: 'SECRETS_INVALID', message: new RegExp(`mode ${mode.toString(8)}.*chmod 600 ${f}`) }, mode.toString(8))
  }
  t.doesNotThrow(() => loadSecrets(secretsFile(GOOD, 0o400), {}), '0400 is fine too')
})

t.test('a missing file names the fix', async (t) => {
  const e = t.throws(() => loadSecrets(join(dir, 'nope.yaml'), {})) as unknown as Error
  t.type(e, SecretsError)
  t.match(e.message, /does not exist.*safehouse user add/)
})

const refused: Array<{ name: string; text: string; message: RegExp }> = [
  { name: 'unknown key', text: 'station_pasword: x\n', message: /unknown key "station_pasword" \(known: station_password, broker_passwords, ble_keys, group_password, dc09_keys\)/ },
  { name: 'not a mapping', text: '- a\n', message: /must be a YAML mapping/ },
  { name: 'bad YAML', text: 'a: [\n', message: /not valid YAML/ },
  { name: 'station_password not a string', text: 'station_password: [1]\n', message: /station_password must be a string/ },
  { name: 'broker_passwords not a mapping', text: 'broker_passwords: [a]\n', message: /broker_passwords must be a mapping/ },
  { name: 'broker password not a string', text: 'broker_passwords:\n  u: 12\n', message: /broker_passwords\.u must be a string/ },
  { name: 'ble key too short', text: 'ble_keys:\n  w: 231d39c1\n', message: /ble_keys\.w must be 32 hex digits/ },
  { name: 'ble key not hex', text: `ble_keys:\n  w: ${KEY.slice(0, 31)}g\n`, message: /ble_keys\.w must be 32 hex digits/ },
  { name: 'ble key too long', text: `ble_keys:\n  w: ${KEY}00\n`, message: /ble_keys\.w must be 32 hex digits/ },
]
t.test('bad content is refused, saying what and where', async (t) => {
  for (const c of refused) {
    const f = secretsFile(c.text)
    const e = t.throws(() => loadSecrets(f, {}), c.name) as unknown as Error
    t.type(e, SecretsError, c.name)
    t.match(e.message, c.message, c.name)
    t.match(e.message, f, `${c.name}: names the file`)
  }
})

t.test('SAFEHOUSE_STATION_PASSWORD overrides the file and works without one', async (t) => {
  const f = secretsFile(GOOD)
  t.equal(loadSecrets(f, { SAFEHOUSE_STATION_PASSWORD: 'from-env' }).station_password, 'from-env')
  t.equal(loadSecrets(f, { SAFEHOUSE_STATION_PASSWORD: '' }).station_password, 's3cret', 'an empty variable does not override')
  t.equal(loadSecrets(null, { SAFEHOUSE_STATION_PASSWORD: 'env-only' }).station_password, 'env-only')
})

t.test('writeSecrets writes mode 0600, atomically, and round-trips', async (t) => {
  const sub = mkdtempSync(join(dir, 'w-'))
  const f = join(sub, 'secrets.yaml')
  const s: Secrets = { station_password: 'p: w#"\'', broker_passwords: { tech: 'scrypt$1$1$1$a$b' }, ble_keys: { w1: KEY } }
  writeSecrets(f, s)
  t.equal(statSync(f).mode & 0o777, 0o600)
  t.same(loadSecrets(f, {}), s, 'reads back the same (quotes and colons survive)')
  t.same(readdirSync(sub), ['secrets.yaml'], 'no temp file left behind')

  // Replacing a file that was (wrongly) 0644 and a stale 0644 temp file from a crash still ends 0600.
  chmodSync(f, 0o644)
  writeFileSync(`${f}.tmp-${process.pid}`, 'stale', { mode: 0o644 })
  chmodSync(`${f}.tmp-${process.pid}`, 0o644)
  writeSecrets(f, { ...s, station_password: 'new' })
  t.equal(statSync(f).mode & 0o777, 0o600)
  t.equal(loadSecrets(f, {}).station_password, 'new')
  t.same(readdirSync(sub), ['secrets.yaml'])
  t.notMatch(readFileSync(f, 'utf8'), /stale/)
})

t.test('hashPassword / verifyPassword', async (t) => {
  const h = await hashPassword('correct horse', 1024)
  t.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
  t.not(await hashPassword('correct horse', 1024), h, 'random salt: two hashes of one password differ')
  t.equal(await verifyPassword('correct horse', h), true, 'right password')
  t.equal(await verifyPassword('correct horsE', h), false, 'wrong password')
  t.equal(await verifyPassword('', h), false, 'empty password')
  t.equal(await verifyPassword('pässwörd ✓', await hashPassword('pässwörd ✓', 1024)), true, 'unicode password')

  const [, , , , salt, key] = h.split('$')
  const malformed: Array<[string, unknown]> = [
    ['empty', ''],
    ['not scrypt', `bcrypt$1024$8$1$${salt}$${key}`],
    ['too few parts', `scrypt$1024$8$${salt}$${key}`],
    ['too many parts', `scrypt$1024$8$1$${salt}$${key}$x`],
    ['N not a number', `scrypt$abc$8$1$${salt}$${key}`],
    ['N not a power of two', `scrypt$1000$8$1$${salt}$${key}`],
    ['N zero', `scrypt$0$8$1$${salt}$${key}`],
    ['N negative', `scrypt$-1024$8$1$${salt}$${key}`],
    ['N huge', `scrypt$${2 ** 24}$8$1$${salt}$${key}`],
    ['r huge (minutes of CPU)', `scrypt$1024$100000$1$${salt}$${key}`],
    ['p huge (minutes of CPU)', `scrypt$1024$8$100000$${salt}$${key}`],
    ['hash of the wrong length', `scrypt$1024$8$1$${salt}$${key.slice(0, 20)}`],
    ['hash not base64', `scrypt$1024$8$1$${salt}$***`],
    ['not a string', undefined],
  ]
  for (const [name, stored] of malformed) {
    const started = Date.now()
    const ok = await verifyPassword('correct horse', stored as string).catch((e: unknown) => `threw ${String(e)}`)
    t.equal(ok, false, `${name}: false, never throws`)
    t.ok(Date.now() - started < 5000, `${name}: answered promptly`)
  }
})

t.test('group_password: from the file or SAFEHOUSE_GROUP_PASSWORD, must be a string', async (t) => {
  t.equal(loadSecrets(secretsFile('group_password: peer-pw-1\n'), {}).group_password, 'peer-pw-1')
  t.equal(loadSecrets(secretsFile('group_password: peer-pw-1\n'), { SAFEHOUSE_GROUP_PASSWORD: 'from-env' }).group_password, 'from-env')
  t.throws(() => loadSecrets(secretsFile('group_password: [1]\n'), {}), /group_password must be a string/)
})
