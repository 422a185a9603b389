/**
 * The embedded broker for bench/fanout.ts, alone in its own process so its
 * CPU (/proc/PID/stat) is the broker's only: the real EmbeddedBroker with the
 * gateway's hooks (scrypt logins, topic checks, ACL on every publish and
 * subscribe, packet-size guard, TCP_NODELAY), built from a parsed config.
 *
 *   node --import tsx bench/fanout-broker.ts PORT
 *
 * Users: FANOUT_USERS (a station publisher, technicians subscribing). Prints
 * "listening" on stdout once it accepts connections; runs until killed.
 * No validateInbound: the bench's topic (`<post>/cmd/fanout`) carries an
 * opaque payload, so no JSON schema runs per publish (one per publish, not per
 * delivery, in the gateway).
 */
import { pino } from 'pino'
import { stringify } from 'yaml'
import { parseConfig } from '../gateway/config/load-config.js'
import { hashPassword } from '../gateway/config/password-hash.js'
import { EmbeddedBroker } from '../gateway/broker/embedded-broker.js'
import { FANOUT_USERS, FANOUT_SITE, FANOUT_POST } from './fanout-shared.js'

const port = Number(process.argv[2])
const config = parseConfig(stringify({
  site: FANOUT_SITE,
  post: FANOUT_POST,
  data_dir: '/nonexistent',
  log: { level: 'silent', format: 'json' },
  broker: { port, host: '127.0.0.1', max_clients: 1000, users: FANOUT_USERS.map(({ username, role }) => ({ username, role })) },
  station: { url: null },
  devices: [],
}), 'fanout.yaml')
const passwords: Record<string, string> = {}
for (const u of FANOUT_USERS) passwords[u.username] = await hashPassword(u.password, 1024)
const broker = new EmbeddedBroker({ broker: config.broker, site: config.site, post: config.post, group: null, passwords, log: pino({ level: 'silent' }) })
await broker.start()
process.stdout.write('listening\n')
process.on('SIGTERM', () => { void broker.stop().then(() => process.exit(0)) })
