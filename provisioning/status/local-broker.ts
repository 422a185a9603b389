/**
 * Where the gateway's embedded broker is, and who logs in to it, from the
 * post's config file (status and walk-test run on the post or next to it).
 * The password never comes from the command line (shell history, `ps`).
 */
import type { Config } from '../../gateway/config/config-types.js'
import { ConfigError } from '../../gateway/config/config-error.js'
import { loadConfig } from '../../gateway/config/load-config.js'
import type { Prompter } from '../shared/prompter.js'
import type { BrokerTarget } from './broker-connect.js'
import { UsageError } from '../commands/usage-error.js'

export { DEFAULT_CONFIG, PASSWORD_ENV } from '../shared/defaults.js'
import { PASSWORD_ENV } from '../shared/defaults.js'

/** The post's config, validated as the gateway does; a missing or invalid file is a usage error (exit 2). */
export function loadPostConfig(file: string): Readonly<Config> {
  try {
    return loadConfig(file)
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`${e.message}\n(the post's config file is needed to find its broker and devices; pass --config FILE)`)
    throw e
  }
}

/** mqtt://host:port of the embedded broker; --broker URL overrides (e.g. a post's LAN address). */
export function localBrokerUrl(config: Readonly<Config>, file: string, override?: string): string {
  if (override) {
    if (!/^mqtts?:\/\//.test(override)) throw new UsageError(`--broker must be mqtt://host:port (got "${override}")`)
    return override
  }
  if (!config.broker.enabled) throw new UsageError(`the embedded broker is disabled in ${file} (broker.enabled: false): enable it, or read the station with --station URL`)
  // A broker listening on every address is reached on loopback from the post itself.
  const host = config.broker.host === '0.0.0.0' || config.broker.host === '::' ? '127.0.0.1' : config.broker.host
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:${config.broker.port}`
}

/**
 * The embedded broker as a connect target, with what to check when it cannot be
 * reached. The password is set afterwards, so a bad --broker is refused before
 * anyone is asked for one.
 */
export function localBrokerTarget(config: Readonly<Config>, file: string, o: { broker?: string; username: string; clientId: string; caFile?: string }): BrokerTarget {
  return {
    url: localBrokerUrl(config, file, o.broker),
    what: 'the gateway\'s embedded broker',
    hint: `Is the gateway running (systemctl status safehouse)? Check broker.host and broker.port in ${file}`,
    username: o.username,
    caFile: o.caFile,
    clientId: o.clientId,
  }
}

/** --user, or the config's only technician user. */
export function localUser(config: Readonly<Config>, file: string, user?: string): string {
  if (user) return user
  const techs = config.broker.users.filter((u) => u.role === 'technician').map((u) => u.username)
  if (techs.length === 1) return techs[0]
  throw new UsageError(techs.length
    ? `give --user NAME: ${file} has several technician users (${techs.join(', ')})`
    : `give --user NAME: ${file} has no technician user under broker.users (add one with \`safehouse user add NAME --role technician\`)`)
}

/** --password-stdin (one line), else $SAFEHOUSE_PASSWORD, else a prompt that does not echo. */
export async function brokerPassword(user: string, fromStdin: boolean, prompter: Prompter, environment: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (!fromStdin) {
    const env = environment[PASSWORD_ENV]
    if (env) return env
  }
  return prompter.secret(`Password for ${user}`, { validate: (s) => (s === '' ? 'the password is empty' : null) })
}
