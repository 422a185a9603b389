/**
 * `safehouse walk-test` as a technician runs it (issue 7 §3): a spawned CLI
 * against an in-process gateway; the test triggers the devices while it runs
 * and answers the lamp question on stdin.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, startCli } from '../harness/cli-process.js'
import { until, USERS } from '../harness/test-gateway.js'
import { cliGateway, TECH_ENV } from './cli-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { WalkTestReport } from '../../provisioning/walk-test/report.js'
import { walkTest } from '../../provisioning/commands/walk-test.js'
import { UsageError } from '../../provisioning/commands/usage-error.js'

t.setTimeout(120_000)

const exited = (p: ReturnType<typeof startCli>): Promise<number | null> =>
  p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((resolve) => p.once('exit', (code) => setImmediate(() => resolve(code))))

/** `until`, but a timeout shows what the CLI printed (and its exit code), so a failure says why. */
async function untilCli(p: ReturnType<typeof startCli>, cond: () => boolean, what: string): Promise<void> {
  try {
    await until(cond, what, 20_000)
  } catch (e) {
    throw new Error(`${(e as Error).message}; CLI exit code ${p.exitCode}, stderr:\n${p.output.err}\nstdout:\n${p.output.out}`)
  }
}

function reportFiles(dir: string): { json: WalkTestReport; md: string; names: string[] } {
  const names = readdirSync(dir).sort()
  const json = names.find((n) => n.endsWith('.json'))
  const md = names.find((n) => n.endsWith('.md'))
  if (!json || !md) throw new Error(`no report files in ${dir}: ${names.join(', ')}`)
  const text = readFileSync(join(dir, json), 'utf8')
  const r = checkPayload<WalkTestReport>('walkTestReport', text)
  if (!r.ok) throw new Error(`the JSON report does not match walk-test-report.schema.json: ${r.error}`)
  return { json: r.value, md: readFileSync(join(dir, md), 'utf8'), names }
}

t.test('every device triggered, lamp confirmed on stdin: exit 0, report written and published, normal mode again', async (t) => {
  const { gw, dir, configFile } = await cliGateway(t)
  // A local screen watching the post sees the test alerts and the published report.
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.technician.username, password: USERS.technician.password, reconnectPeriod: 0 })
  t.teardown(() => watcher.endAsync())
  const alerts: { device: string; test: boolean }[] = []
  let published: Buffer | null = null
  watcher.on('message', (topic, p) => {
    if (topic.includes('/alert/')) alerts.push(JSON.parse(p.toString()))
    else if (topic.endsWith('/walk-test/report')) published = p
  })
  await watcher.subscribeAsync(['safehouse/v1/test-city/kiosk-001/alert/+', 'safehouse/v1/test-city/kiosk-001/walk-test/report'], { qos: 1 })

  const p = startCli(['walk-test', '--config', configFile, '--password-stdin', '--minutes', '2'], { stdin: `${USERS.technician.password}\ny\n` })
  t.teardown(() => { p.kill('SIGKILL') })
  await untilCli(p, () => gw.core.testMode, 'walk-test mode on')
  // Trigger the devices as a simulator user would, through the sim topics.
  const sim = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.simulator.username, password: USERS.simulator.password, reconnectPeriod: 0 })
  t.teardown(() => sim.endAsync())
  await sim.publishAsync('safehouse/v1/test-city/kiosk-001/sim/counter-button/press', '', { qos: 1 })
  await untilCli(p, () => p.output.err.includes('✓ counter-button'), 'the button ticked')
  await sim.publishAsync('safehouse/v1/test-city/kiosk-001/sim/whistle-07/blow', '', { qos: 1 })
  const code = await exited(p)
  t.equal(code, 0, p.output.err)

  t.match(p.output.err, /Walk test of test-city\/kiosk-001: 3 device\(s\), time limit 2 min/)
  t.match(p.output.err, /\[ \] whistle-07 +ble-whistle/)
  t.match(p.output.err, /do you see it\? \(y\/n\)/)
  t.match(p.output.err, /✓ whistle-07 \(ble-whistle\): whistle, RSSI -62 dBm — 2 of 2 triggered/)
  t.notMatch(p.output.out + p.output.err, USERS.technician.password, 'the password is never printed')
  t.match(p.output.out, /Walk test PASS: 3 passed, 0 failed, 0 skipped/)
  t.match(p.output.out, /Published on safehouse\/v1\/test-city\/kiosk-001\/walk-test\/report \(retained\): no station configured/)

  const files = reportFiles(join(dir, 'data', 'walk-tests'))
  t.match(files.names[0], /^walk-test-kiosk-001-\d{8}-\d{6}\.json$/)
  t.match(files.json, { site: 'test-city', post: 'kiosk-001', technician: 'tech-1', ended_by: 'all_passed', result: 'pass', time_limit_s: 120, summary: { passed: 3, failed: 0, skipped: 0 } })
  const byId = Object.fromEntries(files.json.devices.map((d) => [d.id, d]))
  t.match(byId['counter-button'], { kind: 'panic-button', label: 'Counter "main" button', location: 'under the counter', check: 'alert', result: 'pass', alert_kind: 'panic' })
  t.match(byId['whistle-07'], { result: 'pass', alert_kind: 'whistle', rssi: -62 })
  t.match(byId['lamp-box'], { check: 'lamp_test', result: 'pass', note: 'test pattern confirmed by the technician' })
  t.type(byId['lamp-box'].battery, 'number', 'battery from the retained device state')
  t.type(byId['counter-button'].triggered_at, 'number')
  t.match(files.md, /# Walk test: test-city\/kiosk-001/)
  t.match(files.md, /\*\*Result: PASS\*\*/)
  t.match(files.md, /\| counter-button \| panic-button \| Counter "main" button \| under the counter \| test alert \| \*\*PASS\*\* \|/)

  t.equal(gw.core.testMode, false, 'normal mode again')
  t.equal((gw.gatewayState() as { mode: string }).mode, 'normal')
  await until(() => published !== null, 'the report on the local broker')
  t.same(JSON.parse(String(published)), files.json, 'the published report is the written one')
  t.ok(alerts.filter((a) => a.device === 'counter-button' || a.device === 'whistle-07').every((a) => a.test), 'alerts during the test were marked test')
})

t.test('a device never triggered within a short limit: exit 1, it is reported as failed', async (t) => {
  const { gw, dir, configFile } = await cliGateway(t)
  const reportDir = join(dir, 'reports')
  const p = startCli(['walk-test', '--config', configFile, '--minutes', '0.1', '--lamp-ok', '--json', '--report-dir', reportDir], { env: TECH_ENV })
  t.teardown(() => { p.kill('SIGKILL') })
  await untilCli(p, () => gw.core.testMode, 'walk-test mode on')
  gw.twins.get('counter-button')?.act('press')
  const code = await exited(p)
  t.equal(code, 1, p.output.err)
  const r = JSON.parse(p.output.out) as WalkTestReport
  t.ok(checkPayload('walkTestReport', JSON.stringify(r)).ok, '--json prints a schema-valid report')
  t.match(r, { ended_by: 'time_limit', result: 'fail', summary: { passed: 2, failed: 1, skipped: 0 }, time_limit_s: 6 })
  t.match(r.devices.find((d) => d.id === 'whistle-07'), { result: 'fail', triggered_at: null, note: 'no test alert within 6 s' })
  t.match(r.devices.find((d) => d.id === 'lamp-box'), { result: 'pass', note: /--lamp-ok/ })
  t.match(p.output.err, /FAILED: whistle-07 \(no test alert within 6 s\)/)
  t.same(reportFiles(reportDir).json, r, 'the files hold the same report')
  t.equal(gw.core.testMode, false, 'test mode switched off')
})

t.test('Ctrl-C: the report is still written, test mode is switched off', async (t) => {
  const { gw, dir, configFile } = await cliGateway(t)
  const p = startCli(['walk-test', '--config', configFile, '--minutes', '5', '--no-lamp-check'], { env: TECH_ENV })
  t.teardown(() => { p.kill('SIGKILL') })
  await untilCli(p, () => gw.core.testMode, 'walk-test mode on')
  gw.twins.get('counter-button')?.act('press')
  await untilCli(p, () => p.output.err.includes('✓ counter-button'), 'the button ticked')
  p.kill('SIGINT')
  const code = await exited(p)
  t.equal(code, 1, 'the whistle never passed')
  t.match(p.output.err, /stopping: switching test mode off and writing the report/)
  const { json } = reportFiles(join(dir, 'data', 'walk-tests'))
  t.match(json, { ended_by: 'interrupted', result: 'fail', summary: { passed: 1, failed: 1, skipped: 1 } })
  t.match(json.devices.find((d) => d.id === 'lamp-box'), { result: 'skipped', note: /--no-lamp-check/ })
  t.match(json.devices.find((d) => d.id === 'whistle-07'), { result: 'fail', note: 'no test alert before the test was stopped' })
  t.equal(gw.core.testMode, false)
})

t.test('--off ends a walk test a dead laptop left running; usage errors exit 2', async (t) => {
  const { gw, configFile } = await cliGateway(t)
  gw.commands.handle('walk-test', Buffer.from(JSON.stringify({ by: 'tech-2', args: { on: true, minutes: 30 } })), { reply: () => {} }, {})
  t.equal(gw.core.testMode, true)
  const [off, help] = await Promise.all([
    cli(['walk-test', '--config', configFile, '--off'], { env: TECH_ENV }),
    cli(['walk-test', '--help']),
  ])
  t.equal(off.code, 0, off.err)
  t.match(off.out, /walk-test mode is off/)
  t.equal(gw.core.testMode, false)
  t.equal(help.code, 0)
  t.match(help.out, /Exit codes: 0 every device passed[\s\S]*Examples:/)
  // Flags are checked before anything is opened (cli.ts turns UsageError into exit 2).
  const usage = async (args: string[], message?: RegExp): Promise<void> => {
    const e = await walkTest(['--config', configFile, ...args]).then(() => null, (x: Error) => x)
    t.ok(e instanceof UsageError, `${args.join(' ')}: a usage error (${e?.message})`)
    if (message) t.match(e?.message, message)
  }
  await usage(['--minutes', '0'], /^--minutes must be a number above 0 and at most 240 \(got "0"\)$/)
  await usage(['--minutes', '241'])
  await usage(['--minutes', 'soon'])
  await usage(['--lamp-ok', '--no-lamp-check'], /not both/)
  await usage(['--frobnicate'], /^unknown option --frobnicate$/)
  await t.rejects(walkTest(['--config', join(configFile, '..', 'missing.yaml')]), /missing\.yaml: 1 problem/)
  t.notOk(existsSync(join(configFile, '..', 'data', 'walk-tests')), 'no report without a test')
})
