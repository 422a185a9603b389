/**
 * A running test gateway (test/harness/test-gateway.ts) plus the config file a
 * technician's CLI on that post would read: the same site, post, devices and
 * data_dir, and the port the embedded broker actually listens on.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { testGateway, until, USERS, type TestGatewayOptions } from '../harness/test-gateway.js'
import type { Gateway } from '../../gateway/gateway.js'

export const TECH_ENV = { SAFEHOUSE_PASSWORD: USERS.technician.password }

export interface CliGateway { gw: Gateway; dir: string; configFile: string }

export async function cliGateway(
  t: { teardown: (f: () => unknown) => void },
  o: TestGatewayOptions & { configDevices?: Record<string, unknown>[] } = {},
): Promise<CliGateway> {
  const { gw, dir, cleanup } = await testGateway(o)
  t.teardown(cleanup)
  await gw.start()
  const configFile = join(dir, 'config.yaml')
  const c = gw.config
  writeFileSync(configFile, stringify({ ...c, broker: { ...c.broker, port: gw.broker.port }, devices: o.configDevices ?? c.devices }))
  return { gw, dir, configFile }
}

/**
 * Wait until the wired and lamp devices are online (the whistle stays
 * "starting" until it is heard), then publish every retained state now
 * instead of at the publisher's next second.
 */
export async function freshStates(gw: Gateway, online = ['counter-button', 'lamp-box']): Promise<void> {
  const idx = (id: string): number => gw.devices.entries.find((e) => e.id === id)?.index ?? -1
  await until(() => online.every((id) => gw.state.status[idx(id)] === 'online'), `${online.join(', ')} online`)
  gw.statePublisher.flush(true)
}
