/**
 * The service's command line carries the V8 memory flags (issue 13 §6), and
 * node accepts them (a misspelt V8 flag would stop the service at start).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliExecStart, SERVICE_NODE_FLAGS } from '../../provisioning/install/exec-start.js'

t.test('a built CLI runs as node FLAGS cli.js run --config FILE', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-exec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cli = join(dir, 'cli.js')
  writeFileSync(cli, '')
  const e = cliExecStart('/etc/safehouse/config.yaml', cli, '/usr/bin/node')
  t.same(e.argv, ['/usr/bin/node', ...SERVICE_NODE_FLAGS, cli, 'run', '--config', '/etc/safehouse/config.yaml'])
  t.equal(e.warning, null)
  t.equal(e.validatorCache, null, 'no cache writer beside this cli.js: nothing to run')
  // The bundle (dist/bundle/) has the config validator's cache writer beside cli.js: install runs it
  // with the unit's node and flags, the only ones under which V8 accepts the cache (issue 13 §5).
  const writer = join(dir, 'write-validator-cache.js')
  writeFileSync(writer, '')
  t.same(cliExecStart('/etc/safehouse/config.yaml', cli, '/usr/bin/node').validatorCache, ['/usr/bin/node', ...SERVICE_NODE_FLAGS, writer])
})

t.test('node accepts the flags and they take effect', async (t) => {
  const r = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, '-p', "require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size"], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  // new_space holds two semi-spaces; at most 1 MiB each.
  t.ok(Number(r.stdout) <= 2 * 1024 * 1024, `new space ${r.stdout.trim()} bytes`)
})
