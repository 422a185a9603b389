/**
 * `safehouse user add NAME --role ROLE --secrets FILE`: stores an scrypt hash
 * of the password in the secrets file (0600). The password comes from stdin
 * (--password-stdin, for scripts) or a hidden prompt; it is never echoed or
 * accepted on the command line (it would land in shell history and `ps`).
 */
import { parseArgs } from 'node:util'
import { existsSync } from 'node:fs'
import { readSecretLine } from './read-secret.js'
import { UsageError } from './usage-error.js'

const ROLES = ['panel', 'technician', 'neighbour', 'station', 'simulator']

export async function userAdd(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    role: { type: 'string' }, secrets: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean' },
  } })
  if (values.help) {
    console.log(`usage: safehouse user add NAME --role ROLE --secrets FILE [--password-stdin]

Roles: ${ROLES.join(', ')}. Add the same NAME and role under broker.users in the config.
Example:
  echo "$PANEL_PW" | safehouse user add panel-1 --role panel --secrets /etc/safehouse/secrets.yaml --password-stdin`)
    return 0
  }
  const name = positionals[0]
  if (!name || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) throw new UsageError('give a user NAME (letters, digits, _ . -; up to 64)')
  if (!values.role || !ROLES.includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
  if (!values.secrets) throw new UsageError('--secrets FILE is required (e.g. /etc/safehouse/secrets.yaml)')
  // Loaded after the usage checks so `user add --help` stays fast (issue 13 §5).
  const [{ hashPassword }, { emptySecrets, loadSecrets, writeSecrets }] = await Promise.all([
    import('../../gateway/config/password-hash.js'), import('../../gateway/config/secrets.js'),
  ])
  const password = await readSecretLine('Password for ' + name + ': ', !!values['password-stdin'])
  if (password.length < 8) throw new Error('the password must have at least 8 characters')
  const secrets = existsSync(values.secrets) ? loadSecrets(values.secrets, {}) : emptySecrets()
  secrets.broker_passwords[name] = await hashPassword(password)
  writeSecrets(values.secrets, secrets)
  console.log(`user ${name} stored in ${values.secrets} (scrypt hash, mode 0600). Add to the config:\n  broker:\n    users:\n      - { username: ${name}, role: ${values.role} }`)
  return 0
}
