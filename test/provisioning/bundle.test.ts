/**
 * Issue 13 §5: the installed `safehouse` binary is the bundle that
 * provisioning/build/bundle-cli.ts writes (dist/bundle/cli.js), so a start
 * loads a handful of files instead of ~50 modules and ~90 package files before
 * the broker listens. The other tests run the sources' one-module-per-file copy;
 * this file runs a bundle built from the current sources, as `npm run build`
 * builds it, and checks what could differ: that `bin` and `npm start` run it,
 * that it starts with its broker deny-by-default from the first connection
 * while the hardware libraries are not loaded yet, that a config error reads
 * exactly as from the sources, and that the demo (station console, metrics,
 * pino-pretty, SQLite) runs from it end to end. Started with the service's flags
 * it reads the config validator's V8 code cache the build wrote, and `install`
 * writes that cache again for the unit's node and flags (issue 13 §5). pino is
 * inlined too: its logger writes the sources' lines, secrets redacted.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BUNDLE_DIR, BUNDLED, bundleCli } from '../../provisioning/build/bundle-cli.js'
import { cli, tmpDir } from '../harness/cli-process.js'
import { childEnv } from '../harness/prebuilt-cli.js'
import { freePort } from '../harness/mosquitto.js'
import { SERVICE_NODE_FLAGS } from '../../provisioning/install/exec-start.js'

t.setTimeout(120_000)

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const preload = fileURLToPath(new URL('../harness/list-packages-at-listen.mjs', import.meta.url))
/** Packages that must not be loaded when the broker starts listening (issue 13 §5 a). */
const HARDWARE_AND_LATER = ['johnny-five', 'firmata-io', 'serialport', '@serialport/stream', '@serialport/bindings-cpp', 'dbus-next', 'node-ble', 'modbus-serial', 'mqtt', 'prom-client', 'ajv', 'pino-pretty', 'better-sqlite3', 'pg']

// Inside the repo, so the bundle's requires of the packages left outside find node_modules as dist/bundle does.
const out = join(ROOT, 'node_modules', '.cache', 'safehouse-bundle-test', `${process.pid}-${Date.now()}`)
mkdirSync(out, { recursive: true })
t.teardown(() => rmSync(out, { recursive: true, force: true }))
const built = bundleCli(out)
const entry = join(out, 'cli.js')

interface Run { code: number | null; out: string; err: string }
/** Run the bundle to its exit, as the installed binary runs (plain node). */
function runBundle(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
    const r: Run = { code: null, out: '', err: '' }
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
    c.stdout.on('data', (d: Buffer) => { r.out += d })
    c.stderr.on('data', (d: Buffer) => { r.err += d })
    c.on('close', (code) => { clearTimeout(timer); r.code = code; resolve(r) })
  })
}

t.test('bin, npm start and npm run build name the bundle', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> }
  t.equal(pkg.bin.safehouse, relative(ROOT, join(BUNDLE_DIR, 'cli.js')), 'package.json bin is the bundle')
  t.match(pkg.scripts.build, /provisioning\/build\/bundle-cli\.ts/, 'npm run build (and prepare) writes it')
  t.match(pkg.scripts.prepare, /npm run build/, 'prepare builds on npm install / npm ci')
  t.equal(pkg.scripts.start, `node ${pkg.bin.safehouse} demo`, 'npm start runs the demo from it')
  const meta = await built
  const inlined = new Set(Object.keys(meta.inputs).map((k) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(k)?.[1]).filter((p): p is string => !!p))
  t.same([...inlined].sort(), [...BUNDLED].sort(), 'exactly the listed packages are inlined')
  t.match(readFileSync(entry, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the entry keeps its #! line')
})

t.test('--help from the bundle', async (t) => {
  await built
  const [b, src] = await Promise.all([runBundle(['--help']), cli(['--help'])])
  t.equal(b.code, 0)
  t.equal(b.out, src.out, 'the same text as from the sources')
  const run = await runBundle(['run', '--help'])
  t.equal(run.code, 0)
  t.match(run.out, /usage: safehouse run --config FILE/)
})

t.test('a config error reads exactly as from the sources (message and line numbers)', async (t) => {
  await built
  const dir = tmpDir(t)
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, ['site: s1', 'post: P1', 'broker:', '  port: 99999', 'devices:', '  - { id: b, kind: panic-button, driver: sim, debounce_ms: -1 }', '  - { id: w, kind: whistle }', ''].join('\n'))
  const [b, src] = await Promise.all([runBundle(['run', '--config', file]), cli(['run', '--config', file])])
  t.equal(b.code, 1, 'exit 1')
  t.equal(b.err, src.err, 'same problems, paths, lines and hints')
  t.match(b.err, /bad\.yaml:4 +broker\.port: must be <= 65535/, 'with line numbers')
})

t.test('run, as the service runs it: the broker listens deny-by-default before the hardware libraries load', async (t) => {
  await built
  const dir = tmpDir(t)
  const port = await freePort()
  const config = join(dir, 'c.yaml')
  writeFileSync(config, [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: info, format: json }',
    `broker: { host: 127.0.0.1, port: ${port} }`, 'station: { url: null }', `boards: [{ id: nano, port: ${join(dir, 'no-firmata')} }]`,
    'devices:', '  - { id: b, kind: panic-button, driver: firmata, board: nano, pin: 2 }', '  - { id: w, kind: ble-whistle, address: "A4:C1:38:12:34:56" }',
    `  - { id: lamp, kind: lamp-box, driver: modbus, port: ${join(dir, 'no-rs485')}, unit_id: 1 }`, '',
  ].join('\n'))
  // With the service's V8 flags (the unit's ExecStart), under which the build wrote the validator's code cache.
  const c = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', preload, entry, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
  t.teardown(() => { if (c.exitCode === null) c.kill('SIGKILL') })
  let out = ''
  let err = ''
  c.stdout.on('data', (d: Buffer) => { out += d })
  c.stderr.on('data', (d: Buffer) => { err += d })
  const url = `mqtt://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000 // a hang, not the start time
  let first: number | 'connected' | null = null
  while (first === null && Date.now() < deadline && c.exitCode === null) {
    first = await new Promise<number | 'connected' | null>((resolve) => {
      const m = mqtt.connect(url, { clientId: 'bundle-anon', reconnectPeriod: 0, connectTimeout: 10_000 })
      m.once('connect', () => { m.end(true); resolve('connected') })
      m.once('error', (e: Error & { code?: number | string }) => { m.end(true); resolve(typeof e.code === 'number' ? e.code : null) })
    })
    if (first === null) await new Promise((r) => setTimeout(r, 5))
  }
  t.equal(first, 5, `the first answered CONNECT without credentials is refused (not authorized); stderr: ${err.slice(-400)}`)
  const atListen = (/^LOADED-AT-LISTEN (.*)$/m.exec(err)?.[1] ?? '').split(',').filter(Boolean)
  t.same(atListen.filter((p) => HARDWARE_AND_LATER.includes(p)), [], 'no hardware library, mqtt.js, ajv or prom-client was loaded when the broker listened')
  t.same(atListen.filter((p) => BUNDLED.includes(p)), [], `yaml, aedes and mqtt-packet came from the bundle, not from node_modules: ${atListen}`)
  t.match(err, /^STDIN-AT-LISTEN untouched$/m, 'process.stdin (a ReadStream run never reads) was not made before the broker listened')
  const until = Date.now() + 60_000
  while (!out.includes('gateway started') && Date.now() < until && c.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  t.match(out, /gateway started/, 'the gateway started around the listening broker')
  while (!out.includes('config validator compile cache') && Date.now() < until && c.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  // The build wrote the config validator's V8 code cache beside the chunks: the start read its
  // compiled code instead of compiling ~270 KB before the broker listened (issue 13 §5).
  t.match(out, /"validator_cache":"used","msg":"config validator compile cache"/, 'the config validator came from its code cache')
  c.kill('SIGTERM')
  const code = await new Promise((r) => c.once('exit', r))
  t.equal(code, 0, 'a clean stop')
})

t.test("install from the bundle rewrites the config validator's code cache for the unit's node and flags", async (t) => {
  await built
  const dir = tmpDir(t)
  const config = join(dir, 'c.yaml')
  writeFileSync(config, ['site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'devices: []', ''].join('\n'))
  const r = await runBundle(['install', '--dry-run', '--no-start', '--config', config])
  t.equal(r.code, 0, r.err)
  // V8 takes the cache only from the node and flags that made it: the package's copy was made where it
  // was built, so install writes it again with ExecStart's node and flags (issue 13 §5).
  const line = [process.execPath, ...SERVICE_NODE_FLAGS, join(out, 'write-validator-cache.js')].join(' ')
  t.ok(r.out.split('\n').some((l) => l.startsWith(line)), `the commands include ${line}`)
  t.match(r.out, new RegExp(`^ExecStart=\\S*node ${SERVICE_NODE_FLAGS.join(' ')} \\S+/cli\\.js run`, 'm'), 'with the flags of the unit')
})

t.test("the bundle's own pino copy writes the lines the sources' pino writes, secrets redacted", async (t) => {
  // pino is inlined (issue 13 §5): the logger the bundle makes must be the one the tests prove on the sources.
  const meta = await built
  const key = Object.keys(meta.outputs).find((k) => meta.outputs[k]?.entryPoint === 'gateway/logging.ts')
  if (!key) return t.fail('gateway/logging.ts is an entry of the bundle (demo imports it)')
  const bundled = (await import(pathToFileURL(resolve(key)).href)) as typeof import('../../gateway/logging.js')
  const sources = await import('../../gateway/logging.js')
  const secrets = ['hunter2', 'pw2', '00112233445566778899aabbccddeeff', 'k3y']
  const write = async (createLogger: typeof sources.createLogger): Promise<string[]> => {
    const lines: string[] = []
    const destination = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb() } })
    const log = createLogger({ level: 'info', format: 'json', destination: destination as unknown as Parameters<typeof createLogger>[0]['destination'] })
    log.child({ component: 'uplink' }).info({ station_password: 'hunter2', user: { password: 'pw2' }, ble_keys: { w: secrets[2] }, key: 'k3y', id: 'a:b:1' }, 'alert acknowledged by the station')
    log.warn({ err: 'port taken', n: 1.5, list: [1, 'a'] }, 'gateway cannot start')
    log.debug({ x: 1 }, 'below the level')
    await new Promise((r) => setImmediate(r))
    return lines.map((l) => l.replace(/"time":\d+/, '"time":0'))
  }
  const [fromBundle, fromSources] = [await write(bundled.createLogger), await write(sources.createLogger)]
  t.equal(fromBundle.length, 2, 'two lines above the level')
  t.same(fromBundle, fromSources, 'byte for byte the same lines but the time')
  for (const secret of secrets) t.notOk(fromBundle.join('').includes(secret), `"${secret}" never reaches the log`)
  t.match(fromBundle[0], /"station_password":"\[redacted\]"/)
})

t.test("mqtt.js's own mqtt-packet copy builds no packet-id cache (the bundle's copy is aedes')", async (t) => {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const packet = createRequire(require.resolve('mqtt'))('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }
  t.equal(packet.writeToStream.cacheNumbers, true, 'mqtt-packet caches by default')
  const { mqttConnect } = await import('../../gateway/mqtt-connect.js')
  const c = mqttConnect(`mqtt://127.0.0.1:${await freePort()}`, { reconnectPeriod: 0, connectTimeout: 1000 })
  c.on('error', () => {})
  await c.endAsync(true)
  t.equal(packet.writeToStream.cacheNumbers, false, 'the first connect turned it off for the copy mqtt.js writes with')
})

t.test('the demo runs from the bundle: press, station console, ack', async (t) => {
  await built
  const r = await runBundle(['demo', '--once'], 90_000)
  t.equal(r.code, 0, `demo --once exits 0; stderr: ${r.err.slice(-400)}`)
  t.match(r.out, /CONSOLE +station console http:\/\/127\.0\.0\.1:\d+\//, 'the station console served its page directory')
  t.match(r.out, /recorded ack of demo-city:kiosk-001:1/, 'the ack came back to the gateway')
})
