/** `safehouse run --config FILE`: the production gateway. SIGINT/SIGTERM stop it cleanly. */
import { parseArgs } from 'node:util'
import type { Gateway as GatewayT } from '../../gateway/gateway.js'
import { SystemdNotifier } from '../shared/systemd-notify.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

/** How long a failed start may spend closing what it opened before the process exits anyway. */
const STOP_GRACE_MS = 3000

export async function runGateway(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }))
  if (values.help) {
    println(io.stdout, 'usage: safehouse run --config FILE\n\nExample:\n  safehouse run --config /etc/safehouse/config.yaml')
    return 0
  }
  if (!values.config) throw new UsageError('--config FILE is required (e.g. /etc/safehouse/config.yaml)')
  // The gateway's modules load after the usage checks, so `run --help` stays fast, and only what
  // the embedded broker needs loads before it listens: openGateway loads the rest (issue 13 §5).
  const { loadConfig, ConfigError, loadSecrets, createLogger, openGateway, validatorCacheState } = await import('./run-start.js')
  let config
  try {
    config = loadConfig(values.config)
  } catch (e) {
    if (e instanceof ConfigError) {
      println(io.stderr, e.message)
      return 1
    }
    throw e
  }
  const secrets = loadSecrets(config.secrets_file)
  const log = createLogger(config.log)
  let gw: GatewayT | null = null
  try {
    gw = await openGateway(config, secrets, log)
    await gw.start()
  } catch (e) {
    // A fatal start error (the embedded broker's port taken, data_dir not writable, a driver
    // that cannot be built): say what, where and what to do on ONE line, close what was opened,
    // and exit non-zero at once. A process that hangs after such an error is worse under systemd
    // than one that exits: Restart= retries it and the journal shows why (issue 11 §4).
    const msg = (e as Error).message
    log.fatal({ err: msg, config: values.config }, 'gateway cannot start')
    println(io.stderr, `safehouse run: cannot start (${values.config}): ${msg}`)
    if (gw) await Promise.race([gw.stop().catch(() => {}), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())])
    process.exit(1)
  }
  // Whether the config validator's compiled code came from its V8 code cache (~25 ms of the start;
  // gateway/config/config-validator.ts): "rejected" after a Node.js upgrade until `safehouse install` runs again.
  log.info({ validator_cache: validatorCacheState() }, 'config validator compile cache')
  const systemd = new SystemdNotifier(log)
  systemd.ready()
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  systemd.stopping()
  await gw.stop()
  // Everything is closed and flushed. Exit now rather than wait for the event loop to empty: a
  // GPIO button's read of /dev/input blocks a libuv pool thread until the next key event, which
  // would hold the process until systemd's stop timeout kills it.
  process.exit(0)
}
