/**
 * Issue 11 §4: `safehouse run` with a fatal start error (the embedded broker's
 * port is taken) exits non-zero promptly with one clear line (what, where,
 * what to do) instead of running on until something kills it.
 */
import t from 'tap'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tmpDir } from '../harness/cli-process.js'
import { freePort } from '../harness/mosquitto.js'

t.test('run exits 1 at once when the embedded broker cannot listen', async (t) => {
  const dir = tmpDir(t)
  const port = await freePort()
  const squatter = createServer()
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())))
  const config = join(dir, 'c.yaml')
  writeFileSync(config, [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: silent, format: json }',
    `broker: { host: 127.0.0.1, port: ${port} }`, 'outbox: { kind: file }',
    'devices:', '  - { id: b, kind: panic-button, driver: sim }', '',
  ].join('\n'))
  const started = Date.now()
  // The CLI loads the gateway (seconds on a loaded machine); hanging is what the timeout catches.
  const r = await cli(['run', '--config', config], { timeoutMs: 30_000 })
  const ms = Date.now() - started
  t.equal(r.code, 1, `exit code 1 (not killed by the test's timeout); stderr: ${r.err}`)
  const lines = r.err.trim().split('\n')
  t.equal(lines.length, 1, 'one line on stderr')
  t.match(lines[0], /^safehouse run: cannot start \(.*c\.yaml\): embedded broker cannot listen on 127\.0\.0\.1:\d+: the port is in use .*Stop it or set broker\.port/, 'what, where, what to do')
  t.ok(ms < 20_000, `exited promptly (${ms} ms)`)
})
