/**
 * `safehouse user add NAME --role ROLE --secrets FILE`: stores an scrypt hash
 * of the password in the secrets file (0600). The password comes from stdin
 * (--password-stdin, for scripts) or a hidden prompt; it is never echoed or
 * accepted on the command line (it would land in shell history and `ps`).
 * An existing NAME is never replaced silently (issue 12 §10): on a terminal it
 * asks, in a script it needs --force.
 */
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { readSecretLine } from './read-secret.js'
import { Prompter } from '../shared/prompter.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const ROLES = ['panel', 'technician', 'neighbour', 'station', 'simulator']

export async function userAdd(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values, positionals } = parseFlags(() => parseArgs({ args: argv, allowPositionals: true, options: {
    role: { type: 'string' }, secrets: { type: 'string' }, 'password-stdin': { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }))
  if (values.help) {
    println(io.stdout, `usage: safehouse user add NAME --role ROLE --secrets FILE [--password-stdin] [--force]

Roles: ${ROLES.join(', ')}. Add the same NAME and role under broker.users in the config.
A NAME already in the secrets file is replaced only after a yes on the terminal, or with --force.
Example:
  echo "$PANEL_PW" | safehouse user add panel-1 --role panel --secrets /etc/safehouse/secrets.yaml --password-stdin`)
    return 0
  }
  const name = positionals[0]
  if (!name || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) throw new UsageError(name ? `user name "${name}" is not letters, digits, _ . - (up to 64)` : 'give a user NAME (letters, digits, _ . -; up to 64)')
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`)
  if (!values.role || !ROLES.includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
  if (!values.secrets) throw new UsageError('--secrets FILE is required (e.g. /etc/safehouse/secrets.yaml)')
  // Loaded after the usage checks, so `user add --help` stays fast (issue 13 §5).
  const [{ hashPassword }, { emptySecrets, loadSecrets, writeSecrets }] = await Promise.all([
    import('../../gateway/config/password-hash.js'), import('../../gateway/config/secrets.js'),
  ])
  const secrets = existsSync(values.secrets) ? loadSecrets(values.secrets, {}) : emptySecrets()
  if (secrets.broker_passwords[name] !== undefined && !values.force) {
    const interactive = !values['password-stdin'] && io.stdin.isTTY === true
    const yes = interactive && await confirmReplace(name, values.secrets, io)
    if (!yes) {
      println(io.stderr, `user ${name} already exists in ${values.secrets}; nothing changed. To replace its password, run again with --force`)
      return 1
    }
  }
  const password = await readSecretLine('Password for ' + name + ': ', !!values['password-stdin'], io)
  if (password.length < 8) throw new Error('the password must have at least 8 characters')
  secrets.broker_passwords[name] = await hashPassword(password)
  writeSecrets(values.secrets, secrets)
  println(io.stdout, `user ${name} stored in ${values.secrets} (scrypt hash, mode 0600). Add to the config:\n  broker:\n    users:\n      - { username: ${name}, role: ${values.role} }`)
  return 0
}

async function confirmReplace(name: string, file: string, io: CliIO): Promise<boolean> {
  const p = new Prompter({ input: io.stdin, output: io.stderr })
  try {
    return await p.confirm(`user ${name} already exists in ${file}; replace its password?`, false)
  } finally {
    p.close()
  }
}
