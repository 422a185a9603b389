/**
 * `safehouse station` as an operator's admin runs it: config problems with
 * their lines, operators added from stdin into the database, the service up
 * against a real mosquitto with its console answering, clean stop on SIGTERM.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, startCli, tmpDir } from '../harness/cli-process.js'
import { Mosquitto } from '../harness/mosquitto.js'
import { openStore } from '../../station/store/open-store.js'

// Each spawned CLI loads the whole product: seconds apiece on a loaded machine.
t.setTimeout(120_000)

t.test('config check: every problem with its line and a hint; exit 1', async (t) => {
  const dir = tmpDir(t)
  const f = join(dir, 'station.yaml')
  writeFileSync(f, 'store: mysql://x\nbroker:\n  urll: mqtt://x\nweb:\n  port: 99999\nmetrics:\n  prot: 9465\n')
  const r = await cli(['station', 'config', 'check', f])
  t.equal(r.code, 1)
  t.match(r.err, `${f}:1  store:`)
  t.match(r.err, `${f}:2  broker.url: is required but missing`)
  t.match(r.err, `${f}:3  broker.urll: is not a known setting`)
  t.match(r.err, `${f}:5  web.port:`)
  t.match(r.err, `${f}:7  metrics.prot: is not a known setting`)
  t.equal((await cli(['station', '--bogus'])).code, 2, 'unknown option: usage error')
})

t.test('user add, then the service runs and its console answers', async (t) => {
  const dir = tmpDir(t)
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const db = join(dir, 'data', 'station.db')
  const f = join(dir, 'station.yaml')
  writeFileSync(f, `store: sqlite:${db}\nbroker:\n  url: ${mosq.url}\n  client_id: st-cli-test\nweb:\n  port: 0\nmetrics:\n  port: 0\nlog:\n  level: silent\n`)
  const bad = await cli(['station', 'user', 'add', 'wang', '--role', 'chief', '--config', f])
  t.equal(bad.code, 2, 'unknown role is a usage error')
  const add = await cli(['station', 'user', 'add', 'wang', '--role', 'operator', '--lang', 'zh-CN', '--config', f, '--password-stdin'], { stdin: 'long-enough-pw\n' })
  t.equal(add.code, 0, add.err)
  const store = await openStore(`sqlite:${db}`)
  t.same(await store.verifyOperator('wang', 'long-enough-pw'), { name: 'wang', role: 'operator', lang: 'zh-CN' })
  await store.close()

  const p = startCli(['station', '--config', f])
  const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)))
  const start = Date.now()
  // The metrics line is printed after the console's: wait for it so both are there.
  while (!/metrics on (http:\/\/\S+)/.test(p.output.err) && Date.now() - start < 20_000 && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  const url = /console on (http:\/\/\S+)/.exec(p.output.err)?.[1]
  t.ok(url, `console URL printed: ${p.output.err}`)
  const res = await fetch(new URL('/api/queue', url))
  t.equal(res.status, 401, 'the console refuses an API call without a session')
  const metricsUrl = /metrics on (http:\/\/\S+)/.exec(p.output.err)?.[1]
  t.ok(metricsUrl, `metrics URL printed (metrics.port: 0 from the config): ${p.output.err}`)
  const m = await fetch(metricsUrl!)
  t.equal(m.status, 200, 'GET /metrics answers')
  t.match(await m.text(), /^safehouse_station_db_up 1$/m, 'the fleet gauges are served')
  p.kill('SIGTERM')
  t.equal(await exited, 0, 'clean stop')
})
