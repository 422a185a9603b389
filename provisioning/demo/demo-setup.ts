/**
 * Everything the demo needs, made fresh in a temp directory: a config with the
 * three simulated device kinds, a secrets file (0600) with random passwords,
 * and a local "station" broker (aedes, with login) standing in for the police
 * station's broker. Nothing here is used in production.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Aedes, type Client, type AuthenticateError } from 'aedes'
import { stringify } from 'yaml'
import { hashPassword } from '../../gateway/config/password-hash.js'
import { writeSecrets } from '../../gateway/config/secrets.js'

import { DEMO_SITE, DEMO_POST, DEMO_HOLD_MS } from './demo-constants.js'
export { DEMO_SITE, DEMO_POST, DEMO_HOLD_MS, DEMO_HOLD_PRESS_MS } from './demo-constants.js'

export interface DemoSetup {
  dir: string
  configFile: string
  secretsFile: string
  station: { port: number; users: Record<string, string>; close: () => Promise<void> }
  local: { port: number; panelUser: string; panelPassword: string; simUser: string; simPassword: string; techUser: string; techPassword: string }
}

const pw = () => randomBytes(12).toString('base64url')

/** The station broker: aedes with a login for the gateway and one for the operator console. */
async function startStationBroker(users: Record<string, string>): Promise<DemoSetup['station']> {
  const aedes = await Aedes.createBroker({
    authenticate: (_c: Client, u: string | undefined, p: Buffer | undefined, cb: (e: AuthenticateError | null, ok: boolean | null) => void) => {
      if (u && users[u] !== undefined && p?.toString() === users[u]) return cb(null, true)
      const err = new Error('bad username or password') as AuthenticateError
      err.returnCode = 4
      cb(err, null)
    },
  })
  const server: Server = createServer({ noDelay: true }, (s) => aedes.handle(s))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  return {
    port,
    users,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()))
      await new Promise<void>((r) => aedes.close(() => r()))
    },
  }
}

export async function prepareDemo(localPort: number): Promise<DemoSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-demo-'))
  mkdirSync(join(dir, 'data'), { mode: 0o700 })
  const station = await startStationBroker({ [`gw-${DEMO_POST}`]: pw(), 'operator-desk': pw(), 'station-service': pw() })
  const local = { port: localPort, panelUser: 'lamp-panel', panelPassword: pw(), simUser: 'demo-sim', simPassword: pw(), techUser: 'demo-tech', techPassword: pw() }
  const secretsFile = join(dir, 'secrets.yaml')
  writeSecrets(secretsFile, {
    station_password: station.users[`gw-${DEMO_POST}`],
    broker_passwords: {
      [local.panelUser]: await hashPassword(local.panelPassword, 1024),
      [local.simUser]: await hashPassword(local.simPassword, 1024),
      [local.techUser]: await hashPassword(local.techPassword, 1024),
    },
    ble_keys: {},
  })
  const config = {
    site: DEMO_SITE,
    post: DEMO_POST,
    post_type: 'safety_house',
    group: 'unit-3',
    data_dir: join(dir, 'data'),
    secrets_file: secretsFile,
    log: { level: 'warn', format: 'pretty' },
    broker: {
      host: '127.0.0.1',
      port: localPort,
      users: [
        { username: local.panelUser, role: 'panel' },
        { username: local.simUser, role: 'simulator' },
        { username: local.techUser, role: 'technician' }, // `safehouse status` against the demo
      ],
    },
    station: { url: `mqtt://127.0.0.1:${station.port}`, username: `gw-${DEMO_POST}`, backoff_initial_ms: 200, test_report_s: 0 },
    outbox: { kind: 'file' },
    metrics: { host: '127.0.0.1', port: 0 }, // any free port: several demos (and tests) may run at once
    devices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim', label: 'Counter button', location: 'under the counter', alert_kind: 'panic' },
      { id: 'public-button', kind: 'panic-button', driver: 'sim', label: 'Public SOS button', location: 'outside, left of the door', alert_kind: 'panic', hold_ms: DEMO_HOLD_MS },
      { id: 'whistle-07', kind: 'ble-whistle', driver: 'sim', label: 'Whistle 07', location: 'volunteer Wang', address: 'A4:C1:38:00:00:07', alert_kind: 'whistle' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'sim', label: 'Lamp box', location: 'roof', alarm_hold_s: 30 },
    ],
  }
  const configFile = join(dir, 'config.yaml')
  writeFileSync(configFile, `# safehouse demo config (generated)\n${stringify(config)}`, { mode: 0o600 })
  return { dir, configFile, secretsFile, station, local }
}
