/**
 * The embedded broker's options from the site config and secrets: one place,
 * used by the composition root (gateway.ts) and by the early listen before it
 * is built (open-gateway.ts), so both brokers are the same broker.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/config-types.js'
import type { Secrets } from '../config/secrets.js'
import type { EmbeddedBrokerOptions } from './embedded-broker.js'

export function brokerOptions(c: Readonly<Config>, secrets: Secrets, log: Logger): EmbeddedBrokerOptions {
  return { broker: c.broker, site: c.site, post: c.post, group: c.group, passwords: secrets.broker_passwords, log: log.child({ component: 'broker' }) }
}
