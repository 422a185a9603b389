/** `safehouse run --config FILE`: the production gateway. SIGINT/SIGTERM stop it cleanly. */
import { parseArgs } from 'node:util'
import { ConfigError } from '../../gateway/config/config-error.js'
import { UsageError } from './usage-error.js'

export async function runGateway(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean' } } })
  if (values.help) {
    console.log('usage: safehouse run --config FILE\n\nExample:\n  safehouse run --config /etc/safehouse/config.yaml')
    return 0
  }
  if (!values.config) throw new UsageError('--config FILE is required (e.g. /etc/safehouse/config.yaml)')
  // Loaded after the usage checks so `run --help` stays fast (issue 13 §5).
  const [{ loadConfig }, { loadSecrets }, { createLogger }, { Gateway }, { defaultDrivers }, { createFileOutbox }, { SystemdNotifier }] = await Promise.all([
    import('../../gateway/config/load-config.js'), import('../../gateway/config/secrets.js'), import('../../gateway/logging.js'),
    import('../../gateway/gateway.js'), import('../../gateway/driver-registry.js'), import('../../gateway/outbox/create-outbox.js'),
    import('../shared/systemd-notify.js'),
  ])
  let config
  try {
    config = loadConfig(values.config)
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message)
      return 1
    }
    throw e
  }
  const secrets = loadSecrets(config.secrets_file)
  const log = createLogger(config.log)
  const gw = await Gateway.create(config, secrets, { log, drivers: defaultDrivers, fileOutbox: createFileOutbox })
  await gw.start()
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
