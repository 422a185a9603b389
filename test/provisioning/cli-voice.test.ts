/**
 * Issue 14 §2 "one CLI voice", over every command: an unknown option or a bad
 * argument is exit 2 with one line naming it, then "run `safehouse CMD
 * --help`"; every command's --help exits 0. The table runs runCli, the
 * function the binary calls, in this process (its argv, what it writes to
 * stdout and stderr, its exit code) because a spawned CLI process costs a
 * second or more of CPU each; the cases the issue quotes, and --version, also
 * run as spawned processes.
 */
import t, { type Test } from 'tap'
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cli, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'

t.setTimeout(120_000)

/**
 * Run the CLI in process: runCli(argv, io), the function the binary calls, with
 * its own streams (test/harness/cli-in-process.ts). Output as one string without
 * the last newline, as a terminal shows it.
 */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await cliInProcess(args)
  return { code: Number(r.code), out: r.out.replace(/\n$/, ''), err: r.err.replace(/\n$/, '') }
}

// [argv before the bad option, the command name its help is under]
const COMMANDS: [string[], string][] = [
  [['init'], 'init'],
  [['pair', 'ble'], 'pair ble'],
  [['pair', 'button'], 'pair button'],
  [['pair', 'lamp'], 'pair lamp'],
  [['walk-test'], 'walk-test'],
  [['status'], 'status'],
  [['install'], 'install'],
  [['demo'], 'demo'],
  [['run'], 'run'],
  [['config', 'check', 'site.yaml'], 'config check'],
  [['simulate', 'press', 'counter-button'], 'simulate'],
  [['user', 'add', 'bob', '--role', 'panel', '--secrets', 'x.yaml'], 'user add'],
]

const usageLines = (r: { err: string }, command: string, names: RegExp, t: Test) => {
  const lines = r.err.split('\n')
  t.equal(lines.length, 2, `two lines: ${JSON.stringify(r.err)}`)
  t.match(lines[0], new RegExp(`^safehouse ${command}: `), 'names the command')
  t.match(lines[0], names, 'names the option or argument')
  t.equal(lines[1], `run \`safehouse ${command} --help\``)
}

t.test('an unknown option: exit 2, one line naming it, then where the help is', async (t) => {
  for (const [argv, command] of COMMANDS) {
    const r = await run([...argv, '--frobnicate'])
    t.equal(r.code, 2, `${command}: exit 2`)
    usageLines(r, command, /unknown option --frobnicate/, t)
    t.equal(r.out, '', 'nothing on stdout')
  }
})

t.test('every command has --help (exit 0, usage and an example)', async (t) => {
  for (const [argv, command] of COMMANDS) {
    const base = argv.slice(0, command.split(' ').length)
    const r = await run([...base, '--help'])
    t.equal(r.code, 0, `${command} --help: exit 0 ${r.err}`)
    t.match(r.out, new RegExp(`usage: safehouse ${command}\\b`), `${command}: usage line`)
    t.match(r.out, /Example/, `${command}: examples`)
  }
  for (const group of ['pair', 'config', 'user']) t.equal((await run([group, '--help'])).code, 0, `${group} --help`)
})

t.test('bad arguments: the same voice', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['status', '--wait', 'soon'], 'status', /--wait must be a positive number \(got "soon"\)/],
    [['run', '--config'], 'run', /option --config needs a value/],
    [['run'], 'run', /--config FILE is required/],
    [['status', '--json=yes'], 'status', /option --json takes no value/],
    [['config', 'check'], 'config check', /give the config FILE/],
    [['config', 'check', 'a.yaml', 'b.yaml'], 'config check', /unexpected argument "b\.yaml"/],
    [['config', 'frob'], 'config check', /unknown subcommand "frob"/],
    [['user', 'add', 'bad name!', '--role', 'panel', '--secrets', 'x'], 'user add', /user name "bad name!"/],
    [['user', 'del', 'bob'], 'user add', /unknown subcommand "del"/],
    [['simulate', 'press'], 'simulate', /give the DEVICE to press/],
    [['simulate', 'battery', 'whistle-07', 'low'], 'simulate', /ARG must be a number \(got "low"\)/],
    [['pair', 'toaster'], 'pair', /unknown device kind "toaster"/],
    [['pair', 'ble', '--seconds', '0'], 'pair ble', /--seconds must be/],
    [['demo', '--port', '99999'], 'demo', /--port must be a port number/],
  ]
  for (const [argv, command, names] of cases) {
    const r = await run(argv)
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`)
    usageLines(r, command, names, t)
  }
  const unknown = await run(['frobnicate'])
  t.equal(unknown.code, 2)
  t.equal(unknown.err, 'safehouse: unknown command "frobnicate"\nrun `safehouse --help`')
  const opt = await run(['--frobnicate'])
  t.equal(opt.code, 2)
  t.equal(opt.err, 'safehouse: unknown option --frobnicate\nrun `safehouse --help`')
})

t.test('spawned: user add\'s unknown option (Node\'s raw parser text before), and -V', async (t) => {
  const dir = tmpDir(t)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  // Each spawn loads every command (a second or more of CPU on a loaded machine): two, in parallel.
  const [user, V] = await Promise.all([
    cli(['user', 'add', 'bob', '--role', 'panel', '--secrets', join(dir, 's.yaml'), '--foo'], { timeoutMs: 90_000 }),
    cli(['-V'], { timeoutMs: 90_000 }),
  ])
  const version = await run(['--version'])
  for (const [r, command] of [[user, 'user add']] as const) {
    t.equal(r.code, 2, `${command} --foo: exit 2`)
    t.equal(r.err, `safehouse ${command}: unknown option --foo\nrun \`safehouse ${command} --help\`\n`)
    t.equal(r.out, '')
  }
  t.notOk(existsSync(join(dir, 's.yaml')), 'user add wrote nothing')
  t.same([version.code, version.out], [0, `safehouse ${pkg.version}`], '--version prints the package version')
  t.same([V.code, V.out], [0, `safehouse ${pkg.version}\n`], '-V too, spawned')
})

t.test('every doc a hint or message names exists', async (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const files: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts')) files.push(p)
    }
  }
  for (const d of ['gateway', 'provisioning', 'devices', 'protocols']) walk(join(root, d))
  let refs = 0
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/docs\/[\w./-]+?\.(md|json)/g)) {
      refs++
      t.ok(existsSync(join(root, m[0])), `${relative(root, f)} names ${m[0]}`)
    }
  }
  t.ok(refs > 10, `${refs} references checked`)
})
