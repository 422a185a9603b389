/**
 * `safehouse run`'s start (issue 13 §5: the embedded broker accepts within
 * 300 ms of spawn): the broker is built and listening before the rest of the
 * gateway is even loaded (mqtt, the hardware libraries, ~100 of our modules),
 * and the composition root (gateway.ts) then takes that broker as its own.
 *
 * Safe from the first accepted connection: logins (scrypt, anonymous refused),
 * the ACL on every publish and subscribe, the client and packet bounds are the
 * broker's own and live before listen. What the gateway adds, the payload
 * check of topics it consumes and its own subscriptions, is not there yet:
 * a local client's publish is held (holdInbound) until Gateway.start() has
 * subscribed and calls broker.openInbound().
 */
import type { Logger } from 'pino'
import type { Config } from './config/config-types.js'
import type { Secrets } from './config/secrets.js'
import type { Gateway } from './gateway.js'
import { EmbeddedBroker } from './broker/embedded-broker.js'
import { brokerOptions } from './broker/broker-options.js'

/** Listen first, then load and build the gateway around the listening broker (not started: call start()). */
export async function openGateway(config: Readonly<Config>, secrets: Secrets, log: Logger): Promise<Gateway> {
  const broker = new EmbeddedBroker({ ...brokerOptions(config, secrets, log), holdInbound: true })
  try {
    await broker.start()
    const [{ Gateway }, { defaultDrivers }, { createFileOutbox }] = await Promise.all([
      import('./gateway.js'), import('./driver-registry.js'), import('./outbox/create-outbox.js'),
    ])
    return await Gateway.create(config, secrets, { log, drivers: defaultDrivers, fileOutbox: createFileOutbox, broker })
  } catch (e) {
    await broker.stop()
    throw e
  }
}
