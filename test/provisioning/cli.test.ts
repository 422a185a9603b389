/**
 * The `safehouse` command as a user runs it: spawned processes, exit codes,
 * what they print (the usage-error cases run the same runCli in-process,
 * issue 14 §5). Also the gateway's Last Will when its process dies
 * uncleanly (issue 2 §7), seen by a real mosquitto.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, cliCommand, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { childEnv } from '../harness/prebuilt-cli.js'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { until } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

// Spawned processes each load the product: give the whole file more than tap's 30 s default.
t.setTimeout(120_000)

const tmp = (t: { teardown: (f: () => void) => void }): string => tmpDir(t)

t.test('config check: 0 for a good file, 1 listing every problem, 2 for usage', async (t) => {
  const dir = tmp(t)
  writeFileSync(join(dir, 'good.yaml'), 'site: s1\npost: p1\n')
  writeFileSync(join(dir, 'bad.yaml'), 'site: S1\npost: p1\nbroker: { port: 99999 }\nstatoin: {}\n')
  const good = await cli(['config', 'check', join(dir, 'good.yaml')])
  t.equal(good.code, 0)
  t.match(good.out, /OK — site s1, post p1/)
  const bad = await cliInProcess(['config', 'check', join(dir, 'bad.yaml')])
  t.equal(bad.code, 1)
  t.match(bad.err, /3 problems/)
  t.match(bad.err, /bad\.yaml:1 +site:/)
  t.match(bad.err, /broker\.port/)
  t.match(bad.err, /did you mean "station"/)
  t.equal((await cliInProcess(['config', 'check'])).code, 2)
  t.equal((await cliInProcess(['nonsense'])).code, 2)
  t.equal((await cliInProcess(['run', '--frobnicate'])).code, 2, 'an unknown option is a usage error in every command')
})

t.test('run with a bad config exits 1 before opening anything', async (t) => {
  const dir = tmp(t)
  const dataDir = join(dir, 'data')
  writeFileSync(join(dir, 'c.yaml'), `site: s1\npost: p1\ndata_dir: ${dataDir}\ndevices:\n  - { id: b, kind: panic-button, pin: -4 }\n`)
  const r = await cli(['run', '--config', join(dir, 'c.yaml')])
  t.equal(r.code, 1)
  t.match(r.err, /devices\[0\]\.pin/)
  t.notOk(existsSync(dataDir), 'start() never ran: no data dir, no ports')
})

t.test('the gateway process dies (SIGKILL): the station sees the retained Last Will "offline"', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const dir = tmp(t)
  const port = await freePort()
  writeFileSync(join(dir, 'c.yaml'), [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: warn, format: json }',
    `broker: { port: ${port} }`, `station: { url: "${mosq.url}", keepalive_s: 5 }`,
    'devices:', '  - { id: b, kind: panic-button, driver: sim }', '',
  ].join('\n'))
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-lwt' })
  t.teardown(() => station.endAsync())
  const seen: string[] = []
  station.on('message', (_t, p) => {
    t.ok(checkPayload('status', p).ok, 'status payload is schema-valid')
    seen.push(JSON.parse(p.toString()).state)
  })
  await station.subscribeAsync('safehouse/v1/s1/p1/status', { qos: 1 })
  const [node, ...pre] = cliCommand()
  const child: ChildProcess = spawn(node!, [...pre, 'run', '--config', join(dir, 'c.yaml')], { stdio: 'ignore', env: childEnv() })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await until(() => seen.includes('online'), 'the gateway online', 20_000)
  child.kill('SIGKILL')
  await until(() => seen.at(-1) === 'offline', 'the Last Will', 15_000)
  const late = await mqtt.connectAsync(mosq.url, { clientId: 'late' })
  t.teardown(() => late.endAsync())
  const retained = new Promise<{ state: string; retain: boolean }>((resolve) => late.on('message', (_t, p, pkt) => resolve({ state: JSON.parse(p.toString()).state, retain: pkt.retain })))
  await late.subscribeAsync('safehouse/v1/s1/p1/status', { qos: 1 })
  t.same(await retained, { state: 'offline', retain: true }, 'a station that connects later still sees it offline')
})

t.test('demo --once: press, alert at the station, ack recorded, exit 0', async (t) => {
  const r = await cli(['demo', '--once'], { timeoutMs: 60_000 })
  t.equal(r.code, 0, r.err)
  t.match(r.out, /STATION +◀ ALERT PANIC/)
  t.match(r.out, /GATEWAY +✓ recorded ack/)
  t.match(r.out, /CONSOLE +station console http:\/\/127\.0\.0\.1:\d+\/ +login: demo \/ \S+/, 'the station console URL and a demo login (issue 15)')
  t.match(r.out, /CONSOLE +◀ panic demo-city:kiosk-001:1 stored by the station service/, 'the station service stored the alert')
  t.match(r.out, /METRICS +station http:\/\/127\.0\.0\.1:\d+\/metrics/, 'the station\'s /metrics URL (issue 14 item 1)')
})
