/**
 * Issue 13 §5: `safehouse --help` and `CMD --help` load no command's heavy
 * modules (each command's modules load only when it runs). Proved on the
 * real CLI: a preload lists every npm package the process loaded.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../../provisioning/cli.ts', import.meta.url))
const preload = fileURLToPath(new URL('../harness/list-loaded-packages.mjs', import.meta.url))
const HEAVY = ['mqtt', 'aedes', 'ajv', 'pino', 'yaml', 'johnny-five', 'dbus-next', 'modbus-serial', 'serialport', 'node-ble']

function loaded(args: string[]): { status: number | null; stdout: string; packages: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', preload, cli, ...args], { encoding: 'utf8', timeout: 60_000 })
  const line = /^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? ''
  return { status: r.status, stdout: r.stdout, packages: line ? line.split(',') : [] }
}

for (const args of [['--help'], ['run', '--help'], ['demo', '--help'], ['config', 'check', '--help'], ['simulate', '--help'], ['pair', '--help']]) {
  t.test(`safehouse ${args.join(' ')}`, async (t) => {
    const r = loaded(args)
    t.equal(r.status, 0, 'exits 0')
    t.match(r.stdout, /usage|Usage/, 'prints the usage')
    t.same(r.packages.filter((p) => HEAVY.includes(p)), [], 'loads none of the heavy packages')
  })
}

t.test('a command that runs still loads what it needs', async (t) => {
  const r = loaded(['config', 'check', '/nonexistent/config.yaml'])
  t.equal(r.status, 1, 'a missing file is a failure')
  t.ok(r.packages.includes('ajv'), 'config check loaded the schema validator')
})
