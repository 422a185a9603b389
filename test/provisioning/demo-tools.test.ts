/**
 * Issue 14 §2-3: `simulate` and `status` against a running demo (found by its
 * own demo.json, no fixed file) and `simulate` against a gateway run from a
 * config with a simulator user. A refusal by the gateway (unknown device,
 * impossible action) is exit 1 with its reason, never "sent".
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startCli, tmpDir } from '../harness/cli-process.js'
import { testGateway, until, USERS } from '../harness/test-gateway.js'
import { simulate } from '../../provisioning/commands/simulate.js'
import { status } from '../../provisioning/commands/status.js'
import { runningDemos } from '../../provisioning/demo/demo-registry.js'
import { UsageError } from '../../provisioning/commands/usage-error.js'
import type { CliIO } from '../../provisioning/cli-io.js'
import { collectingIO } from '../harness/cli-in-process.js'

t.setTimeout(150_000)

/** Call a command function as runCli does, with its own streams, capturing what it prints. */
async function call(fn: (argv: string[], io: CliIO) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { io, text } = collectingIO()
  const lines = (s: string) => s.replace(/\n$/, '')
  try {
    return { code: await fn(argv, io), out: lines(text.out), err: lines(text.err) }
  } catch (e) {
    return { code: e instanceof UsageError ? 2 : 1, out: lines(text.out), err: [...(text.err ? [lines(text.err)] : []), (e as Error).message].join('\n') }
  }
}

t.test('simulate against a gateway run from a config with a simulator user', async (t) => {
  const { gw, dir, cleanup } = await testGateway()
  t.teardown(cleanup)
  await gw.start()
  const file = join(dir, 'site.yaml')
  writeFileSync(file, stringify({
    site: 'test-city', post: 'kiosk-001', log: { level: 'silent' },
    broker: { host: '127.0.0.1', port: gw.broker.port, users: [{ username: USERS.simulator.username, role: 'simulator' }] },
    devices: [{ id: 'counter-button', kind: 'panic-button', driver: 'sim' }],
  }))
  const before = gw.outbox.stats().appended
  const pw = USERS.simulator.password
  process.env.SAFEHOUSE_PASSWORD = pw
  t.teardown(() => { delete process.env.SAFEHOUSE_PASSWORD })
  const pressed = await call(simulate, ['press', 'counter-button', '--config', file])
  t.equal(pressed.code, 0, pressed.err)
  t.equal(pressed.out, 'press counter-button: accepted by the gateway')
  await until(() => gw.outbox.stats().appended === before + 1, 'the alert')

  const unknown = await call(simulate, ['press', 'back-door', '--config', file])
  t.equal(unknown.code, 1, 'an unknown device is refused')
  t.match(unknown.err, /the gateway refused press back-door: no simulated device "back-door" on this post \(simulated: counter-button, whistle-07, lamp-box\)/)
  t.notMatch(unknown.out, /accepted|sent/)
  const impossible = await call(simulate, ['cut', 'counter-button', '--config', file])
  t.equal(impossible.code, 1, 'an impossible action is refused')
  t.match(impossible.err, /refused cut counter-button: counter-button is a plain contact/)
  const wrongAction = await call(simulate, ['blow', 'lamp-box', '--config', file])
  t.equal(wrongAction.code, 1)
  t.match(wrongAction.err, /unknown action "blow" for the lamp box/)

  // A user the gateway does not know as a simulator: its broker refuses the publish without a word
  // (MQTT 3.1.1); simulate says so instead of hanging or claiming it was sent.
  const notSim = join(dir, 'not-sim.yaml')
  writeFileSync(notSim, stringify({ site: 'test-city', post: 'kiosk-001', broker: { port: gw.broker.port, users: [{ username: USERS.technician.username, role: 'simulator' }] } }))
  process.env.SAFEHOUSE_PASSWORD = USERS.technician.password
  const denied = await call(simulate, ['press', 'counter-button', '--config', notSim, '--wait', '1500'])
  t.equal(denied.code, 1)
  t.match(denied.err, /no answer from the gateway within 1500 ms .*tech-1 have role simulator/)
})

t.test('a running demo: simulate and status find it by its pid, with its own logins', async (t) => {
  const demo = startCli(['demo'], { stdin: undefined })
  t.teardown(() => { if (demo.exitCode === null) demo.kill('SIGTERM') })
  await until(() => /GATEWAY +started/.test(demo.output.out), `the demo to start: ${demo.output.err}`, 90_000)
  await until(() => runningDemos().some((d) => d.pid === demo.pid), 'its demo.json', 10_000)
  const pid = String(demo.pid)
  t.match(demo.output.out, /METRICS +http:\/\/127\.0\.0\.1:\d+\/metrics/, 'the demo prints its metrics URL')
  await until(() => /keys: p = press/.test(demo.output.out), 'the key hints', 20_000)
  t.match(demo.output.out, /h = hold the public button 2 s \(it alarms after its 1\.5 s hold time\)/, 'the hold hint matches the demo config')

  const sim = await call(simulate, ['press', 'counter-button', '--demo', pid])
  t.equal(sim.code, 0, sim.err)
  await until(() => /LOCAL +◀ alert panic from counter-button/.test(demo.output.out), 'the press in the demo', 20_000)
  const refused = await call(simulate, ['press', 'nope', '--demo', pid])
  t.equal(refused.code, 1)
  t.match(refused.err, /no simulated device "nope"/)

  // The retained gateway state follows the uplink within a second of its connecting: read until it does.
  type Report = { posts: { site: string; post: string; station: string; devices: { id: string }[] }[] }
  let st = { code: -1, out: '', err: '' }
  let report: Report = { posts: [] }
  for (let i = 0; i < 10; i++) {
    st = await call(status, ['--demo', pid, '--json', '--wait', '5000'])
    report = JSON.parse(st.out) as Report
    if (report.posts[0]?.station === 'connected') break
    await new Promise((r) => setTimeout(r, 500))
  }
  t.ok(st.code === 0 || st.code === 3, `status ran: ${st.err}`)
  t.equal(report.posts.length, 1)
  t.match(report.posts[0], { site: 'demo-city', post: 'kiosk-001', station: 'connected' })
  t.same(report.posts[0].devices.map((d) => d.id).sort(), ['counter-button', 'lamp-box', 'public-button', 'whistle-07'])
  const bad = await call(simulate, ['press', 'counter-button', '--demo', '1'])
  t.equal(bad.code, 2, 'a pid that is not a running demo is a usage error')
  t.match(bad.err, /no running demo with pid 1/)
})
