/**
 * `safehouse init` as a technician or a script runs it (issue 7 §1): answers
 * on stdin one per line, the files it leaves behind checked by the gateway's
 * own `config check` and loaders. The first case spawns the real binary; the
 * others run the same command line in-process (runCli, issue 14 §5: no node
 * start per case).
 */
import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { cli, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { loadSecrets } from '../../gateway/config/secrets.js'
import { verifyPassword } from '../../gateway/config/password-hash.js'

// The spawned case costs about a second on a loaded machine.
t.setTimeout(120_000)

const PANEL_PW = 'panel-pass-4711'
const TECH_PW = 'tech-pass-0815'
const STATION_PW = 'station-Secret-99'

/** The answers, one per line, in the order init asks them. */
function interactiveAnswers(dataDir: string, o: { site?: string; url?: string } = {}): string {
  return [
    o.site ?? 'sh-huangpu', // Site id
    'kiosk-017', // Post id
    '', // Post type [safety_house]
    'unit-3', // Joint-defence group
    dataDir, // Data directory
    o.url ?? 'mqtts://localhost:8883', // Station broker URL (config check resolves it: one that resolves without DNS)
    'gw-kiosk-017', // Station user name
    STATION_PW, // Station password
    '', // CA file (blank: system store, warned)
    '', // Client certificate (none)
    '0.0.0.0', // Local broker listens on
    '', // Local broker port [1883]
    'y', 'lamp-panel', 'panel', PANEL_PW, // first user
    'y', 'tech', 'technician', TECH_PW, // second user
    'n', // no more users
  ].join('\n') + '\n'
}

t.test('interactive with piped answers: a config `config check` accepts, secrets 0600 with hashes, no password in clear', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'etc', 'config.yaml')
  const r = await cli(['init', '--config', config], { stdin: interactiveAnswers(join(dir, 'data')) })
  t.equal(r.code, 0, r.err)
  t.match(r.err, /Site id.*\n.*Post id/, 'questions go to stderr, one at a time')
  t.match(r.err, /warning: no ca_file/, 'mqtts without ca_file is warned about')
  t.match(r.out, /Next steps:[\s\S]*safehouse install[\s\S]*safehouse pair[\s\S]*walk-test[\s\S]*status/)

  const secretsFile = join(dir, 'etc', 'secrets.yaml')
  t.equal(statSync(secretsFile).mode & 0o777, 0o600, 'secrets file is 0600')
  const text = readFileSync(config, 'utf8')
  const secretsText = readFileSync(secretsFile, 'utf8')
  t.match(text, /^# safehouse site config/, 'a readable header')
  t.match(text, /safehouse pair/)
  t.match(text, /safehouse config check/)
  const c = parse(text)
  t.same({ site: c.site, post: c.post, post_type: c.post_type, group: c.group, data_dir: c.data_dir, secrets_file: c.secrets_file },
    { site: 'sh-huangpu', post: 'kiosk-017', post_type: 'safety_house', group: 'unit-3', data_dir: join(dir, 'data'), secrets_file: secretsFile })
  t.same(c.broker, { host: '0.0.0.0', port: 1883, users: [{ username: 'lamp-panel', role: 'panel' }, { username: 'tech', role: 'technician' }] })
  t.same(c.station, { url: 'mqtts://localhost:8883', username: 'gw-kiosk-017' })

  const s = loadSecrets(secretsFile, {})
  t.equal(s.station_password, STATION_PW, 'the station password is in the secrets file (the gateway must send it)')
  t.match(s.broker_passwords['lamp-panel'], /^scrypt\$/)
  t.ok(await verifyPassword(PANEL_PW, s.broker_passwords['lamp-panel']), 'panel hash verifies')
  t.ok(await verifyPassword(TECH_PW, s.broker_passwords.tech), 'technician hash verifies')
  for (const pw of [PANEL_PW, TECH_PW]) {
    t.notOk(secretsText.includes(pw), 'broker password not in clear in the secrets file')
  }
  for (const pw of [PANEL_PW, TECH_PW, STATION_PW]) {
    t.notOk(text.includes(pw), 'no password in the config')
    t.notOk(r.out.includes(pw) || r.err.includes(pw), 'no password in the output')
  }

  const check = await cliInProcess(['config', 'check', config])
  t.equal(check.code, 0, check.err)
  t.match(check.out, /OK — site sh-huangpu, post kiosk-017/)
})

t.test('entirely from flags (--non-interactive, passwords on stdin)', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'site.yaml')
  const secrets = join(dir, 'keys', 'secrets.yaml')
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  const r = await cliInProcess([
    'init', '--non-interactive', '--password-stdin', '--config', config, '--secrets', secrets,
    '--site', 'sh-jingan', '--post', 'lookout-3', '--post-type', 'lookout', '--data-dir', join(dir, 'data'),
    '--station-url', 'mqtts://10.0.0.5:8883', '--station-username', 'gw-lookout-3', '--ca-file', ca,
    '--broker-port', '18830', '--user', 'lamp-panel:panel', '--user', 'ops:technician',
  ], { stdin: `${STATION_PW}\n${PANEL_PW}\n${TECH_PW}\n` })
  t.equal(r.code, 0, r.err)
  t.notMatch(r.err, /Site id/, 'nothing asked')
  const c = parse(readFileSync(config, 'utf8'))
  t.same({ site: c.site, post: c.post, post_type: c.post_type, group: c.group, secrets_file: c.secrets_file },
    { site: 'sh-jingan', post: 'lookout-3', post_type: 'lookout', group: null, secrets_file: secrets })
  t.same(c.station, { url: 'mqtts://10.0.0.5:8883', username: 'gw-lookout-3', ca_file: ca })
  t.same(c.broker, { host: '127.0.0.1', port: 18830, users: [{ username: 'lamp-panel', role: 'panel' }, { username: 'ops', role: 'technician' }] })
  const s = loadSecrets(secrets, {})
  t.equal(s.station_password, STATION_PW)
  t.ok(await verifyPassword(PANEL_PW, s.broker_passwords['lamp-panel']), 'first password line -> first --user')
  t.ok(await verifyPassword(TECH_PW, s.broker_passwords.ops), 'second password line -> second --user')
  t.equal(statSync(secrets).mode & 0o777, 0o600)
  t.equal((await cliInProcess(['config', 'check', config])).code, 0)
})

t.test('an existing config or secrets file is not overwritten without --force', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'config.yaml')
  writeFileSync(config, 'site: old\npost: old\n')
  const args = ['init', '--non-interactive', '--config', config, '--site', 's2', '--post', 'p2', '--data-dir', join(dir, 'data')]
  const refused = await cliInProcess(args)
  t.equal(refused.code, 1)
  t.match(refused.err, /already exists/)
  t.match(refused.err, /--force/)
  t.match(refused.err, /another --config/)
  t.equal(readFileSync(config, 'utf8'), 'site: old\npost: old\n', 'config untouched')
  t.notOk(existsSync(join(dir, 'secrets.yaml')), 'no secrets file written either')

  const forced = await cliInProcess([...args, '--force'])
  t.equal(forced.code, 0, forced.err)
  // Minimal flags: no station, no users, defaults filled in.
  const c = parse(readFileSync(config, 'utf8'))
  t.same({ site: c.site, url: c.station.url, post_type: c.post_type, users: c.broker.users }, { site: 's2', url: null, post_type: 'safety_house', users: [] })
  t.same(loadSecrets(join(dir, 'secrets.yaml'), {}), { station_password: null, broker_passwords: {}, ble_keys: {} }, 'an empty secrets file is written, so pair ble can add keys')

  // Now only the secrets file is in the way of a new config name.
  const other = join(dir, 'other.yaml')
  const refusedSecrets = await cliInProcess(['init', '--non-interactive', '--config', other, '--site', 's3', '--post', 'p3'])
  t.equal(refusedSecrets.code, 1)
  t.match(refusedSecrets.err, /secrets\.yaml already exists.*--force.*another --secrets/)
  t.notOk(existsSync(other))
})

t.test('a bad answer ends a piped run with an error naming the question; nothing is written', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'config.yaml')
  const badSite = await cliInProcess(['init', '--config', config], { stdin: interactiveAnswers(join(dir, 'data'), { site: 'Huangpu District' }) })
  t.equal(badSite.code, 1)
  t.match(badSite.err, /answer "Huangpu District" for "Site id.*": use 1-32 lower-case letters/)
  t.notOk(existsSync(config))

  const badUrl = await cliInProcess(['init', '--config', config], { stdin: interactiveAnswers(join(dir, 'data'), { url: 'https://station.example.city' }) })
  t.equal(badUrl.code, 1)
  t.match(badUrl.err, /for "Station broker URL.*": scheme "https" is not supported/)
  t.notOk(existsSync(config))

  const pwInUrl = await cliInProcess(['init', '--config', config], { stdin: interactiveAnswers(join(dir, 'data'), { url: 'mqtts://gw:hunter2secret@station.example.city' }) })
  t.equal(pwInUrl.code, 1)
  t.match(pwInUrl.err, /do not put the password in the URL/)
  t.notOk(pwInUrl.err.includes('hunter2secret'), 'the password in the URL is not echoed')
  t.notOk(existsSync(config))
})

t.test('stdin closed before every question is answered', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'config.yaml')
  const r = await cliInProcess(['init', '--config', config], { stdin: 'sh-huangpu\nkiosk-017\n' })
  t.equal(r.code, 1)
  t.match(r.err, /no answer for "Post type/)
  t.notOk(existsSync(config))
  t.notOk(existsSync(join(dir, 'secrets.yaml')))
})

t.test('usage errors exit 2 and name the flag', async (t) => {
  const dir = tmpDir(t)
  const config = join(dir, 'config.yaml')
  const badFlag = await cliInProcess(['init', '--non-interactive', '--config', config, '--site', 'Bad Site', '--post', 'p1'])
  t.equal(badFlag.code, 2)
  t.match(badFlag.err, /--site "Bad Site": use 1-32 lower-case/)
  const missing = await cliInProcess(['init', '--non-interactive', '--config', config, '--post', 'p1'])
  t.equal(missing.code, 2)
  t.match(missing.err, /--site is required with --non-interactive/)
  const noPwSource = await cliInProcess(['init', '--non-interactive', '--config', config, '--site', 's1', '--post', 'p1', '--user', 'x:panel'])
  t.equal(noPwSource.code, 2)
  t.match(noPwSource.err, /--password-stdin/)
  const badUser = await cliInProcess(['init', '--non-interactive', '--password-stdin', '--config', config, '--site', 's1', '--post', 'p1', '--user', 'x:admin'], { stdin: 'whatever-pw\n' })
  t.equal(badUser.code, 2)
  t.match(badUser.err, /role "admin" is not one of panel/)
  t.notOk(existsSync(config))

  const help = await cliInProcess(['init', '--help'])
  t.equal(help.code, 0)
  t.match(help.out, /usage: safehouse init/)
  t.match(help.out, /Examples:\n  sudo safehouse init\n/)
})
