/**
 * Builds a gateway for tests: the simulated twins of all three device kinds,
 * the embedded broker on a free loopback port with known users, an optional
 * station URL, a temp data dir, a silent logger.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { stringify } from 'yaml'
import { parseConfig } from '../../gateway/config/load-config.js'
import { hashPassword } from '../../gateway/config/password-hash.js'
import { Gateway } from '../../gateway/gateway.js'
import { defaultDrivers } from '../../gateway/driver-registry.js'
import { createFileOutbox } from '../../gateway/outbox/create-outbox.js'
import type { Secrets } from '../../gateway/config/secrets.js'
import type { GatewayDeps } from '../../gateway/gateway.js'

export const USERS = {
  panel: { username: 'panel-1', password: 'panel-password-1', role: 'panel' },
  technician: { username: 'tech-1', password: 'tech-password-1', role: 'technician' },
  station: { username: 'desk-1', password: 'desk-password-1', role: 'station' },
  simulator: { username: 'sim-1', password: 'sim-password-1', role: 'simulator' },
  neighbour: { username: 'kiosk-002', password: 'neighbour-pw-1', role: 'neighbour' },
} as const

export interface TestGatewayOptions {
  stationUrl?: string | null
  post?: string
  outbox?: 'memory' | 'file'
  extra?: Record<string, unknown>
  station?: Record<string, unknown>
  /** Secrets file ble_keys (key_ref -> 32 hex digits). */
  bleKeys?: Record<string, string>
  /** Our password at group peers' brokers (secrets group_password). */
  groupPassword?: string
  /** More broker passwords for the secrets file (their users go under extra.broker.users). */
  extraPasswords?: Record<string, string>
  /** scrypt N for the USERS' hashes (default 1024 for speed; production uses 16384). */
  hashN?: number
  /** Logger (default silent). */
  log?: Logger
  /** Secrets file dc09_keys (key_ref -> hex AES key). */
  dc09Keys?: Record<string, string>
  /** DC-09 path hooks (ACK latency, transport). */
  dc09Deps?: GatewayDeps['dc09']
}

export async function testGateway(o: TestGatewayOptions = {}): Promise<{ gw: Gateway; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-gw-'))
  const post = o.post ?? 'kiosk-001'
  const yaml = stringify({
    site: 'test-city',
    post,
    group: 'unit-1',
    data_dir: join(dir, 'data'),
    log: { level: 'silent', format: 'json' },
    metrics: { port: 0 },
    broker: { port: 0, users: Object.values(USERS).map(({ username, role }) => ({ username, role })) },
    station: { url: o.stationUrl ?? null, backoff_initial_ms: 100, backoff_max_ms: 1000, keepalive_s: 5, ...o.station },
    outbox: { kind: o.outbox ?? 'memory' },
    devices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim', label: 'Counter "main" button', location: 'under the counter' },
      { id: 'whistle-07', kind: 'ble-whistle', driver: 'sim', address: 'A4:C1:38:00:00:07', alert_kind: 'whistle' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' },
    ],
    ...o.extra,
  })
  const config = parseConfig(yaml, 'test.yaml')
  const secrets: Secrets = { station_password: null, broker_passwords: {}, ble_keys: { ...o.bleKeys }, group_password: o.groupPassword ?? null, dc09_keys: { ...o.dc09Keys } }
  for (const u of Object.values(USERS)) secrets.broker_passwords[u.username] = await hashPassword(u.password, o.hashN ?? 1024)
  for (const [name, pw] of Object.entries(o.extraPasswords ?? {})) secrets.broker_passwords[name] = await hashPassword(pw, 1024)
  const gw = await Gateway.create(config, secrets, { log: o.log ?? pino({ level: 'silent' }), drivers: defaultDrivers, fileOutbox: createFileOutbox, dc09: o.dc09Deps })
  return {
    gw,
    dir,
    cleanup: async () => {
      await gw.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export { until } from './until.js'
