/** `safehouse run --config FILE`: the production gateway. SIGINT/SIGTERM stop it cleanly. */
import { parseArgs } from 'node:util'
import { loadConfig } from '../../gateway/config/load-config.js'
import { ConfigError } from '../../gateway/config/config-error.js'
import { loadSecrets } from '../../gateway/config/secrets.js'
import { createLogger } from '../../gateway/logging.js'
import { Gateway } from '../../gateway/gateway.js'
import { defaultDrivers } from '../../gateway/driver-registry.js'
import { createFileOutbox } from '../../gateway/outbox/create-outbox.js'
import { SystemdNotifier } from '../shared/systemd-notify.js'
import { parseFlags, UsageError } from './usage-error.js'

export async function runGateway(argv: string[]): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }))
  if (values.help) {
    console.log('usage: safehouse run --config FILE\n\nExample:\n  safehouse run --config /etc/safehouse/config.yaml')
    return 0
  }
  if (!values.config) throw new UsageError('--config FILE is required (e.g. /etc/safehouse/config.yaml)')
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
