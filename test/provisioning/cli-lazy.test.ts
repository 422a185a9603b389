/**
 * Issue 13 §5: `safehouse --help` and `CMD --help` load no command's heavy
 * modules (each command's modules load only when it runs). Proved on the
 * real CLI: a preload lists every npm package the process loaded.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cliCommand } from '../harness/cli-process.js'
import { childEnv } from '../harness/prebuilt-cli.js'

const preload = fileURLToPath(new URL('../harness/list-loaded-packages.mjs', import.meta.url))
const HEAVY = ['mqtt', 'aedes', 'ajv', 'pino', 'yaml', 'johnny-five', 'dbus-next', 'modbus-serial', 'serialport', 'node-ble']

function loaded(args: string[]): Promise<{ status: number | null; stdout: string; packages: string[] }> {
  return new Promise((resolve) => {
    // The transpiled copy of the current sources, one module per source file as tsx would load them
    // (test/harness/prebuilt-cli.ts): what a command imports, and when, is the sources' own doing.
    const [node, ...pre] = cliCommand()
    const c = spawn(node!, ['--import', preload, ...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
    let stdout = ''
    let stderr = ''
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    c.on('close', (status) => {
      const line = /^LOADED (.*)$/m.exec(stderr)?.[1] ?? ''
      resolve({ status, stdout, packages: line ? line.split(',') : [] })
    })
  })
}

// Each child is a full node start (~0.3 s of CPU); they run side by side.
t.setTimeout(180_000)
// init, status and install load their modules after the --help check (issue 13 §5, 250 ms).
const HELPS = [['--help'], ['run', '--help'], ['demo', '--help'], ['config', 'check', '--help'], ['simulate', '--help'], ['pair', '--help'], ['user', 'add', '--help'],
  ['init', '--help'], ['status', '--help'], ['install', '--help']]
const runs = HELPS.map((args) => loaded(args))
HELPS.forEach((args, i) => {
  t.test(`safehouse ${args.join(' ')}`, async (t) => {
    const r = await runs[i]
    t.equal(r.status, 0, 'exits 0')
    t.match(r.stdout, /usage|Usage/, 'prints the usage')
    t.same(r.packages.filter((p) => HEAVY.includes(p)), [], 'loads none of the heavy packages')
  })
})

// walk-test still reads the config file with yaml at module level (local-broker, report);
// mqtt and pino load only when it connects or logs.
const TOOL_HELPS = [['walk-test', '--help']]
const toolRuns = TOOL_HELPS.map((args) => loaded(args))
TOOL_HELPS.forEach((args, i) => {
  t.test(`safehouse ${args.join(' ')}`, async (t) => {
    const r = await toolRuns[i]
    t.equal(r.status, 0, 'exits 0')
    t.match(r.stdout, /usage|Usage/, 'prints the usage')
    t.same(r.packages.filter((p) => HEAVY.includes(p) && p !== 'yaml'), [], 'loads none of the heavy packages but yaml')
  })
})

t.test('a command that runs still loads what it needs', async (t) => {
  const r = await loaded(['config', 'check', '/nonexistent/config.yaml'])
  t.equal(r.status, 1, 'a missing file is a failure')
  t.ok(r.packages.includes('yaml'), 'config check loaded the YAML parser')
  for (const cmd of ['status', 'install']) {
    const x = await loaded([cmd, '--dry-run', '--config', '/nonexistent/config.yaml'].filter((a) => cmd === 'install' || a !== '--dry-run'))
    t.not(x.status, 0, `${cmd} with a missing config fails`)
    t.ok(x.packages.includes('yaml'), `${cmd} loaded the YAML parser when it ran`)
  }
})
