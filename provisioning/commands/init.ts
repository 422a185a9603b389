/**
 * `safehouse init` (issue 7 §1): create the site config and its secrets file,
 * asking one question at a time (or taking every answer from flags in a
 * script). Nothing is written until every answer is in and the whole config
 * passes the gateway's own validation; both files are written atomically,
 * the secrets file with mode 0600 and broker passwords as scrypt hashes.
 * An existing config or secrets file is never overwritten without --force.
 */
import { parseArgs } from 'node:util'
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DEFAULT_CONFIG } from '../shared/defaults.js'
import type { InitFlags } from '../init/init-answers.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'


const HELP = `usage: safehouse init [--config FILE] [--secrets FILE] [--force] [answers as flags]

Creates the site config (default ${DEFAULT_CONFIG}) and its secrets file (default: secrets.yaml
next to the config, mode 0600). Asks one question at a time, with the default in [brackets];
a value given as a flag is not asked. Piped answers are read one per line.

Answers:
  --site ID              site (city district) id, e.g. sh-huangpu
  --post ID              this post's id, e.g. kiosk-017
  --post-type TYPE       safety_house (default) or lookout
  --group ID             joint-defence group id ("" = none)
  --data-dir DIR         outbox and counters (default /var/lib/safehouse)
  --station-url URL      mqtts://host:8883 or mqtt://host:1883 ("" = no station)
  --station-username U   station login; its password is asked (or read with --password-stdin)
  --ca-file FILE         CA that signed the station's certificate (mqtts)
  --cert-file FILE       client certificate, with --key-file FILE (mqtts client auth)
  --broker-host ADDR     local broker address (default 127.0.0.1; 0.0.0.0 = the post's LAN)
  --broker-port N        local broker port (default 1883)
  --user NAME:ROLE       local broker user (repeatable); roles: panel, technician, neighbour,
                         station, simulator; each password is asked without echo

Behaviour:
  --config FILE          where to write the config (default ${DEFAULT_CONFIG})
  --secrets FILE         where to write the secrets (default: secrets.yaml next to the config)
  --force                overwrite an existing config and secrets file
  --non-interactive      ask nothing: every answer comes from flags (--site and --post required)
  --password-stdin       read the passwords from stdin, one per line: the station password
                         first (with --station-username), then one per --user in order

Examples:
  sudo safehouse init
  sudo safehouse init --site sh-huangpu --post kiosk-017 --group unit-3
  printf '%s\\n' "$STATION_PW" "$PANEL_PW" | sudo safehouse init --non-interactive --password-stdin \\
      --site sh-huangpu --post kiosk-017 --station-url mqtts://station.example.city:8883 \\
      --station-username gw-kiosk-017 --ca-file /etc/safehouse/station-ca.pem --user lamp-panel:panel`

export async function init(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values: v } = parseFlags(() => parseArgs({ args: argv, allowPositionals: false, options: {
    site: { type: 'string' }, post: { type: 'string' }, 'post-type': { type: 'string' }, group: { type: 'string' },
    'data-dir': { type: 'string' }, 'station-url': { type: 'string' }, 'station-username': { type: 'string' },
    'ca-file': { type: 'string' }, 'cert-file': { type: 'string' }, 'key-file': { type: 'string' },
    'broker-host': { type: 'string' }, 'broker-port': { type: 'string' }, user: { type: 'string', multiple: true },
    config: { type: 'string' }, secrets: { type: 'string' }, force: { type: 'boolean' },
    'non-interactive': { type: 'boolean' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }), `\n\nRun 'safehouse init --help' for the options.`)
  if (v.help) {
    println(io.stdout, HELP)
    return 0
  }
  // Loaded only when init runs, not for --help (issue 13 §5: yaml, the config loader, scrypt).
  const [{ Prompter }, { writeConfigText }, { parseConfig }, { ConfigError }, { hashPassword }, { emptySecrets, writeSecrets }, { collectAnswers, flagsNeedPasswords }, { renderConfig }] = await Promise.all([
    import('../shared/prompter.js'), import('../shared/config-file.js'), import('../../gateway/config/load-config.js'), import('../../gateway/config/config-error.js'),
    import('../../gateway/config/password-hash.js'), import('../../gateway/config/secrets.js'), import('../init/init-answers.js'), import('../init/config-text.js'),
  ])
  const configFile = resolve(v.config ?? DEFAULT_CONFIG)
  const secretsFile = resolve(v.secrets ?? join(dirname(configFile), 'secrets.yaml'))
  if (secretsFile === configFile) throw new UsageError('--secrets must be another file than --config')
  const interactive = !v['non-interactive']
  if (!interactive && flagsNeedPasswords(v) && !v['password-stdin']) {
    throw new UsageError('--non-interactive needs --password-stdin for the passwords (station password first, then one per --user)')
  }
  // Refuse before asking anything, so nobody answers twenty questions for nothing.
  if (!v.force) {
    for (const [file, flag] of [[configFile, '--config'], [secretsFile, '--secrets']] as const) {
      if (existsSync(file)) {
        println(io.stderr, `safehouse init: ${file} already exists; nothing was changed. Pass --force to overwrite it, or choose another ${flag} FILE.`)
        return 1
      }
    }
  }
  for (const file of [configFile, secretsFile]) {
    const problem = unwritable(dirname(file))
    if (problem) {
      println(io.stderr, `safehouse init: cannot write ${file}: ${problem}`)
      return 1
    }
  }

  const p = new Prompter({ input: io.stdin, output: io.stderr }, { script: !!v['password-stdin'] })
  let collected
  try {
    if (interactive) p.say(`Creating ${configFile}. Press Enter to take the [default].`)
    collected = await collectAnswers(v as InitFlags, p, interactive)
  } finally {
    p.close()
  }
  const { answers, passwords } = collected

  const text = renderConfig(answers, { configFile, secretsFile, how: interactive ? 'answers to its questions' : 'from flags', date: new Date() })
  try {
    parseConfig(text, configFile)
  } catch (e) {
    // The answers were checked one by one; this is the gateway's own last word on the whole file.
    if (e instanceof ConfigError) {
      println(io.stderr, `${e.message}\nnothing was written`)
      return 1
    }
    throw e
  }

  const secrets = emptySecrets()
  secrets.station_password = passwords.station
  for (const [name, pw] of passwords.users) {
    io.stderr.write(`hashing the password of ${name} (scrypt)…\n`)
    secrets.broker_passwords[name] = await hashPassword(pw)
  }
  mkdirSync(dirname(secretsFile), { recursive: true, mode: 0o755 })
  mkdirSync(dirname(configFile), { recursive: true, mode: 0o755 })
  writeSecrets(secretsFile, secrets)
  writeConfigText(configFile, text)

  const users = answers.broker.users.length
  const cfg = configFile === DEFAULT_CONFIG ? '' : ` --config ${configFile}`
  println(io.stdout, `Wrote ${configFile}
Wrote ${secretsFile} (mode 0600: ${users} broker user${users === 1 ? '' : 's'} as scrypt hashes${passwords.station !== null ? ', the station password' : ''})

Next steps:
  1. sudo safehouse install${cfg}
     service user, systemd unit, udev rules, D-Bus policy
  2. sudo safehouse pair ble|button|lamp${cfg}
     add each device; then run step 1 again to give the paired boards and lamp box stable names
  3. safehouse walk-test
     trigger every device; the report goes to the station
  4. safehouse status
     every device, overdue first
Check the config after any edit: safehouse config check ${configFile}`)
  return 0
}

/** Why files cannot be created in `dir` (walking up to the nearest existing parent), or null. */
function unwritable(dir: string): string | null {
  let d = dir
  while (!existsSync(d)) {
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  try {
    accessSync(d, constants.W_OK)
    return null
  } catch (e) {
    return `${d} is not writable (${(e as NodeJS.ErrnoException).code}): run with sudo, or choose another --config`
  }
}
