/**
 * Issue 13 §5: the embedded broker listens before the gateway is built
 * (gateway/open-gateway.ts). From its first accepted connection it refuses
 * anonymous and wrong logins and applies the ACL; a local client's publish that
 * passes the ACL is held until the gateway wires its payload check
 * (openInbound), then decided by it. Real sockets, real mqtt.js clients.
 */
import t, { type Test } from 'tap'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { EmbeddedBroker } from '../../../gateway/broker/embedded-broker.js'
import { hashPassword } from '../../../gateway/config/password-hash.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { stringify } from 'yaml'

const R = 'safehouse/v1/test-city/kiosk-001'
const TECH = { username: 'tech-1', password: 'tech-password-1' }
const PANEL = { username: 'panel-1', password: 'panel-password-1' }

async function earlyBroker(t: Test): Promise<{ broker: EmbeddedBroker; url: string }> {
  const config = parseConfig(stringify({ site: 'test-city', post: 'kiosk-001', broker: { port: 0, users: [{ username: TECH.username, role: 'technician' }, { username: PANEL.username, role: 'panel' }] } }), 'test.yaml')
  const passwords = { [TECH.username]: await hashPassword(TECH.password, 1024), [PANEL.username]: await hashPassword(PANEL.password, 1024) }
  const broker = new EmbeddedBroker({ broker: config.broker, site: config.site, post: config.post, group: null, passwords, log: pino({ level: 'silent' }), holdInbound: true })
  await broker.start()
  t.teardown(() => broker.stop())
  return { broker, url: `mqtt://127.0.0.1:${broker.port}` }
}

function connack(url: string, o: mqtt.IClientOptions): Promise<number | 'connected'> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { ...o, reconnectPeriod: 0, connectTimeout: 10_000 })
    c.once('connect', () => { c.end(true); resolve('connected') })
    c.once('error', (e: Error & { code?: number }) => { c.end(true); resolve(e.code ?? -1) })
  })
}

t.test('before the gateway is wired: logins and the ACL hold, allowed publishes wait for the payload check', async (t) => {
  const { broker, url } = await earlyBroker(t)
  t.equal(await connack(url, { clientId: 'anon' }), 5, 'anonymous: not authorized')
  t.equal(await connack(url, { clientId: 'ghost', username: 'nobody', password: 'x' }), 4, 'unknown user: bad username or password (checked against the decoy)')
  t.equal(await connack(url, { clientId: 'bad', username: TECH.username, password: 'wrong' }), 4, 'wrong password refused')

  const panel = await mqtt.connectAsync(url, { ...PANEL, clientId: 'panel-a', reconnectPeriod: 0 })
  t.teardown(() => panel.endAsync(true))
  t.equal(await panel.subscribeAsync(`${R}/cmd/+`, { qos: 1 }).then(() => 'granted', () => 'refused'), 'refused', 'a subscribe outside the ACL is refused (SUBACK 0x80)')
  t.equal(await panel.subscribeAsync(`${R}/alert/+`, { qos: 1 }).then(() => 'granted', () => 'refused'), 'granted', 'one inside it is granted')
  await panel.publishAsync(`${R}/cmd/reboot`, '{}', { qos: 0 })
  await new Promise((r) => setTimeout(r, 200))
  t.equal(broker.counters.deniedPublish, 1, 'a publish outside the ACL is denied at once, not held')

  const seen: string[] = []
  broker.subscribe(`${R}/cmd/+`, (_topic, payload) => seen.push(payload.toString()))
  const tech = await mqtt.connectAsync(url, { ...TECH, clientId: 'tech-a', reconnectPeriod: 0 })
  t.teardown(() => tech.endAsync(true))
  // A rejected payload closes its client's connection (aedes), so the bad one comes from another client.
  const other = await mqtt.connectAsync(url, { ...TECH, clientId: 'tech-z', reconnectPeriod: 0 })
  other.on('error', () => {})
  t.teardown(() => other.endAsync(true))
  other.publish(`${R}/cmd/ping`, 'bad', { qos: 0 })
  const sent = tech.publishAsync(`${R}/cmd/ping`, 'good', { qos: 1 })
  await new Promise((r) => setTimeout(r, 300))
  t.same(seen, [], 'allowed publishes are held while the gateway is not wired')
  broker.openInbound((_topic, payload) => (payload.toString() === 'bad' ? 'not a command' : null))
  await sent
  await new Promise((r) => setTimeout(r, 100))
  t.same(seen, ['good'], 'released and decided by the gateway\'s payload check')
  t.equal(broker.counters.rejectedPayload, 1, 'the bad payload was rejected and counted')
})

t.test('a broker stopped while publishes are held answers them and closes', async (t) => {
  const { broker, url } = await earlyBroker(t)
  const tech = await mqtt.connectAsync(url, { ...TECH, clientId: 'tech-b', reconnectPeriod: 0 })
  tech.on('error', () => {})
  void tech.publishAsync(`${R}/cmd/ping`, 'x', { qos: 1 }).catch(() => {})
  await new Promise((r) => setTimeout(r, 100))
  await broker.stop()
  await tech.endAsync(true)
  t.pass('stop() returned with a publish held')
})
