/**
 * `safehouse run` under systemd (issue 7 §5, the unit's Type=notify and
 * WatchdogSec=): the real gateway process tells systemd READY=1 once started,
 * WATCHDOG=1 every WatchdogSec/2 from its event loop (none while the process
 * is frozen: a hung gateway gets restarted), and STOPPING=1 on SIGTERM. A
 * stand-in `systemd-notify` on PATH records what it is asked to send.
 */
import t from 'tap'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { startCli, tmpDir } from '../harness/cli-process.js'
import { freePort } from '../harness/mosquitto.js'
import { until } from '../harness/test-gateway.js'
import { SystemdNotifier } from '../../provisioning/shared/systemd-notify.js'

t.setTimeout(90_000)

t.test('ready, watchdog pings from the live event loop, stopping', async (t) => {
  const dir = tmpDir(t)
  const record = join(dir, 'notify.log')
  writeFileSync(join(dir, 'systemd-notify'), `#!/bin/sh\necho "$(date +%s%3N) $*" >> ${record}\n`)
  chmodSync(join(dir, 'systemd-notify'), 0o755)
  writeFileSync(join(dir, 'c.yaml'), [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: warn, format: json }',
    `broker: { port: ${await freePort()} }`, 'outbox: { kind: memory }',
    'devices:', '  - { id: b, kind: panic-button, driver: sim }', '',
  ].join('\n'))
  const child = startCli(['run', '--config', join(dir, 'c.yaml')], {
    env: { PATH: `${dir}:${process.env.PATH}`, NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '600000' },
  })
  t.teardown(() => { if (child.exitCode === null) { child.kill('SIGCONT'); child.kill('SIGKILL') } })
  const lines = (): string[] => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : [])
  const pings = (): number => lines().filter((l) => l.endsWith(' WATCHDOG=1')).length

  await until(() => lines().some((l) => l.includes('READY=1')), 'READY=1', 30_000)
  t.notOk(lines().some((l) => l.includes('WATCHDOG=1') && lines().indexOf(l) < lines().findIndex((x) => x.includes('READY=1'))), 'no ping before ready')
  await until(() => pings() >= 3, 'three watchdog pings (every 300 ms)', 10_000)

  child.kill('SIGSTOP')
  await new Promise((r) => setTimeout(r, 300)) // a ping already in flight lands
  const frozen = pings()
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(pings(), frozen, 'no ping while the gateway is frozen: systemd would restart it')
  child.kill('SIGCONT')
  await until(() => pings() > frozen, 'pings again after it thaws', 10_000)

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0, child.output.err)
  t.ok(lines().some((l) => l.endsWith(' STOPPING=1')), 'STOPPING=1 on SIGTERM')
})

t.test('outside systemd it sends nothing; a missing tool is logged once', async (t) => {
  const calls: string[][] = []
  const fake = (_cmd: string, args: string[]) => { calls.push(args); return { on: () => undefined } }
  const quiet = new SystemdNotifier(pino({ level: 'silent' }), {}, fake)
  quiet.ready()
  quiet.stopping()
  t.same(calls, [], 'no NOTIFY_SOCKET: nothing sent')
  t.equal(new SystemdNotifier(pino({ level: 'silent' }), { NOTIFY_SOCKET: 'x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, fake).watchdogIntervalMs, 0, 'the watchdog is for another process')
  t.equal(new SystemdNotifier(pino({ level: 'silent' }), { NOTIFY_SOCKET: 'x', WATCHDOG_USEC: '30000000' }, fake).watchdogIntervalMs, 15_000, 'half of WatchdogSec')

  const logged: string[] = []
  const log = pino({ level: 'error' }, { write: (s: string) => { logged.push(s) } })
  const failing = (_cmd: string, _args: string[]) => ({ on: (_ev: 'error', f: (e: Error) => void) => { f(new Error('spawn systemd-notify ENOENT')) } })
  const n = new SystemdNotifier(log, { NOTIFY_SOCKET: 'x' }, failing)
  n.ready()
  n.stopping()
  t.equal(logged.length, 1, 'logged once')
  t.match(logged[0], /systemd-notify could not be run/)
})
