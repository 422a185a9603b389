/**
 * Issue 13 §5: `safehouse run` listens with its embedded broker before the rest
 * of the gateway is loaded (gateway/open-gateway.ts), and that broker is the
 * deny-by-default broker from its first accepted connection: the real CLI,
 * polled from spawn; the first connection that is accepted sends a CONNECT
 * without credentials and must be refused, and a login's subscribe outside
 * the ACL must be refused, both before the gateway reports it has started.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startCli, tmpDir } from '../harness/cli-process.js'
import { freePort } from '../harness/mosquitto.js'
import { hashPassword } from '../../gateway/config/password-hash.js'

const TECH = { username: 'tech-1', password: 'tech-password-1' }

/** One anonymous CONNECT: the CONNACK's code, 'connected', or null when nothing listens yet. */
function tryAnonymous(url: string): Promise<number | 'connected' | null> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: 'early-anon', reconnectPeriod: 0, connectTimeout: 10_000 })
    c.once('connect', () => { c.end(true); resolve('connected') })
    c.once('error', (e: Error & { code?: number | string }) => { c.end(true); resolve(typeof e.code === 'number' ? e.code : null) })
  })
}

t.test('the first accepted connection is already refused without credentials, and the ACL holds', async (t) => {
  const dir = tmpDir(t)
  const port = await freePort()
  const secrets = join(dir, 'secrets.yaml')
  writeFileSync(secrets, `broker_passwords:\n  ${TECH.username}: "${await hashPassword(TECH.password, 1024)}"\n`, { mode: 0o600 })
  const config = join(dir, 'c.yaml')
  writeFileSync(config, [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, `secrets_file: ${secrets}`, 'log: { level: info, format: json }',
    `broker: { host: 127.0.0.1, port: ${port}, users: [{ username: ${TECH.username}, role: technician }] }`, 'outbox: { kind: file }',
    'devices:', '  - { id: b, kind: panic-button, driver: sim }', '',
  ].join('\n'))
  const p = startCli(['run', '--config', config])
  t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
  const url = `mqtt://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000 // a loaded machine; the bound is for a hang, not the start time
  let first: number | 'connected' | null = null
  while (first === null && Date.now() < deadline && p.exitCode === null) {
    first = await tryAnonymous(url)
    if (first === null) await new Promise((r) => setTimeout(r, 5))
  }
  const startedWhenRefused = p.output.out.includes('gateway started')
  t.equal(first, 5, `the first answered CONNECT (no credentials) is refused: not authorized; stderr: ${p.output.err}`)

  const tech = await mqtt.connectAsync(url, { ...TECH, clientId: 'early-tech', reconnectPeriod: 0 })
  t.teardown(() => tech.endAsync(true))
  const outside = await tech.subscribeAsync('safehouse/v1/s1/p2/#', { qos: 1 }).then(() => 'granted', () => 'refused')
  const startedAfterAcl = p.output.out.includes('gateway started')
  t.equal(outside, 'refused', 'a subscribe to another post is refused (SUBACK 0x80)')
  t.notOk(startedWhenRefused, 'the refusal came while the rest of the gateway was still loading')
  t.comment(`gateway started before the ACL check: ${startedAfterAcl}`)

  // And the gateway does come up around that broker.
  const until = Date.now() + 60_000
  while (!p.output.out.includes('gateway started') && Date.now() < until && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  t.match(p.output.out, /gateway started/, 'the gateway started around the listening broker')
  const granted = await tech.subscribeAsync('safehouse/v1/s1/p1/#', { qos: 1 }).then(() => 'granted', () => 'refused')
  t.equal(granted, 'granted', 'its own post is granted')
  p.kill('SIGTERM')
  await new Promise((r) => p.once('exit', r))
})

t.test('a post without a station never loads mqtt.js (issue 13 §6: idle memory)', async (t) => {
  const { spawn } = await import('node:child_process')
  const { prebuiltRoot, childEnv } = await import('../harness/prebuilt-cli.js')
  const { fileURLToPath } = await import('node:url')
  const preload = fileURLToPath(new URL('../harness/list-loaded-packages.mjs', import.meta.url))
  const dir = tmpDir(t)
  const port = await freePort()
  const config = join(dir, 'c.yaml')
  writeFileSync(config, [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: info, format: json }',
    `broker: { host: 127.0.0.1, port: ${port} }`, 'station: { url: null }', 'devices:', '  - { id: b, kind: panic-button, driver: sim }', '',
  ].join('\n'))
  const p = spawn(process.execPath, ['--import', preload, join(prebuiltRoot(), 'provisioning', 'cli.js'), 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
  t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
  let out = ''
  let err = ''
  p.stdout.on('data', (d: Buffer) => { out += d })
  p.stderr.on('data', (d: Buffer) => { err += d })
  const until = Date.now() + 60_000
  while (!out.includes('gateway started') && Date.now() < until && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  t.match(out, /gateway started/, `started; stderr: ${err}`)
  p.kill('SIGTERM')
  await new Promise((r) => p.once('exit', r))
  const packages = (/^LOADED (.*)$/m.exec(err)?.[1] ?? '').split(',')
  t.ok(packages.includes('aedes'), 'the embedded broker is loaded')
  t.notOk(packages.includes('mqtt'), 'mqtt.js is not: nothing connects to a station')
})
