/**
 * `safehouse pair button` as a technician runs it (issue 7 §2, §7): a spawned
 * CLI against a Firmata board played by FirmataPeer on a socat PTY pair
 * (serialport + FirmataFrameFilter + firmata-io, as in the gateway), and the
 * gpio path reading a FIFO of input_event structs (the hw-gpio tests' stand-in
 * for /dev/input/eventN: no /dev/uinput here).
 */
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { PtyPair } from '../harness/pty-pair.js'
import { FirmataPeer, type FirmataPeerOptions } from '../harness/firmata-peer.js'
import { cli, startCli, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { encodeInputEvent, EV_KEY } from '../../devices/panic-button/input-event.js'

t.setTimeout(90_000)

type Spawned = ReturnType<typeof startCli>

async function board(t: Test, opts: FirmataPeerOptions = {}): Promise<{ pty: PtyPair; peer: FirmataPeer }> {
  const pty = await new PtyPair('pair-button').open()
  const peer = await FirmataPeer.open(pty.b, opts)
  t.teardown(async () => { await peer.close(); await pty.close() })
  return { pty, peer }
}

/** A site config with board "main" on `port` (fast test timings) and a button on D2. */
function config(t: Test, port: string, handshakeMs = 4000): string {
  const file = join(tmpDir(t), 'config.yaml')
  writeFileSync(file, [
    'site: s1', 'post: p1',
    'boards:', `  - { id: main, port: "${port}", version_query_ms: 100, handshake_timeout_ms: ${handshakeMs} }`,
    'devices:', '  - { id: counter, kind: panic-button, driver: firmata, board: main, pin: 2 }', '',
  ].join('\n'))
  return file
}

const devices = (file: string): Array<Record<string, unknown>> => parse(readFileSync(file, 'utf8')).devices

async function waitFor(p: Spawned, re: RegExp, what: string, ms = 20_000): Promise<void> {
  const start = Date.now()
  while (!re.test(p.output.err)) {
    if (p.exitCode !== null) throw new Error(`the command exited (${p.exitCode}) before ${what}: ${p.output.err}`)
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; stderr so far: ${p.output.err}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function exited(p: Spawned, ms = 30_000): Promise<number | null> {
  if (p.exitCode !== null) return Promise.resolve(p.exitCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), ms)
    p.on('exit', (code) => { clearTimeout(timer); setImmediate(() => resolve(code)) })
  })
}

function spawnPair(t: Test, args: string[], stdin: string): Spawned {
  const p = startCli(['pair', 'button', ...args], { stdin })
  t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
  return p
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('press-to-learn: the toggled pin is learned, written, and config check accepts it', async (t) => {
  const { pty, peer } = await board(t)
  const file = config(t, pty.a)
  const p = spawnPair(t, ['--config', file, '--seconds', '20', '--json'], 'door\nBack door\nbehind the kiosk\n')
  await waitFor(p, /Press the button/, 'the press prompt')
  t.match(p.output.err, /Board "main": StandardFirmata 2\.5/)
  t.match(p.output.err, /D2 high +D3 high/, 'every digital input reported, pulled up')
  t.equal(peer.pinModes.get(3), 0x0b, 'inputs set to INPUT_PULLUP, as the driver does')
  await peer.until(() => peer.isReportingDigital(3), 'D3 reporting')
  peer.setDigital(3, 0)
  await sleep(250)
  peer.setDigital(3, 1)
  t.equal(await exited(p), 0, p.output.err)
  t.match(p.output.err, /Learned: D3 \(press and release; normally-open contact\)/)
  const out = JSON.parse(p.output.out)
  t.match(out, { ok: true, device: { id: 'door', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 3, wiring: 'normally_open', label: 'Back door', location: 'behind the kiosk' } })
  t.match(devices(file)[1], { id: 'door', pin: 3, board: 'main' })
  const check = await cliInProcess(['config', 'check', file]) // spawned in cli.test.ts
  t.equal(check.code, 0, check.err)
  t.match(check.out, /2 device\(s\)/)
})

t.test('a pin already used by another button on the board is refused', async (t) => {
  const { pty, peer } = await board(t)
  const file = config(t, pty.a)
  const before = readFileSync(file, 'utf8')
  const p = spawnPair(t, ['--config', file, '--seconds', '20', '--id', 'second'], '') // no answers: refused before any question
  await waitFor(p, /Press the button/, 'the press prompt')
  await peer.until(() => peer.isReportingDigital(2), 'D2 reporting')
  peer.setDigital(2, 0)
  await sleep(250)
  peer.setDigital(2, 1)
  t.equal(await exited(p), 1)
  t.match(p.output.err, /D2 on board "main" is already used by button "counter": not saved/)
  t.equal(readFileSync(file, 'utf8'), before, 'config untouched')
})

t.test('a supervised loop: one reading open is reported and not saved; one reading normal is learned by a press', async (t) => {
  const { pty, peer } = await board(t)
  const file = config(t, pty.a)
  const before = readFileSync(file, 'utf8')
  peer.setAnalog(0, 1023) // cut wire
  const refused = await cli(['pair', 'button', '--config', file, '--loop', '0', '--id', 'outside', '--seconds', '10'], { stdin: 'n\n', timeoutMs: 30_000 })
  t.equal(refused.code, 1, refused.err)
  t.match(refused.err, /Supervised loop: A0 reads 1023 = ∞ Ω: open — open circuit/)
  t.match(refused.err, /Save this loop anyway\?/)
  t.match(refused.err, /not saved: A0 reads open/)
  t.equal(readFileSync(file, 'utf8'), before, 'config untouched')

  peer.setAnalog(0, 0)
  peer.setAnalog(1, 326) // 2k2 EOL against 4k7: normal
  const p = spawnPair(t, ['--config', file, '--seconds', '20', '--id', 'outside', '--label', 'Public button', '--location', 'outside'], '')
  await waitFor(p, /Press the button/, 'the press prompt')
  t.match(p.output.err, /A0 0 \(0 Ω\) short +A1 326 \(2\.2 kΩ\) normal +A2 0 \(0 Ω\) short/, 'loops reported with the driver\'s zones')
  peer.setAnalog(1, 495) // pressed: 2k2 + 2k2
  await sleep(300)
  peer.setAnalog(1, 326)
  t.equal(await exited(p), 0, p.output.err)
  t.match(devices(file)[1], { id: 'outside', wiring: 'eol_supervised', analog_pin: 1, board: 'main', label: 'Public button' })
})

t.test('a board that does not answer the handshake: exit 1, says what to check', async (t) => {
  const { pty } = await board(t, { silent: true })
  const file = config(t, pty.a, 1500)
  const r = await cli(['pair', 'button', '--config', file, '--seconds', '5'], { timeoutMs: 30_000 })
  t.equal(r.code, 1)
  t.match(r.err, new RegExp(`board on ${pty.a} did not answer the Firmata handshake within 1500 ms \\(no reply at all\\)`))
  t.match(r.err, /USB cable/)
  t.match(r.err, /\/dev\/safehouse-firmata-main/, 'the udev name safehouse install gives this board')
  t.match(r.err, /dialout/)
  t.match(r.err, /StandardFirmata/)
})

t.test('nothing pressed within --seconds: exit 1; a missing port and a taken id fail before waiting', async (t) => {
  const { pty } = await board(t)
  const file = config(t, pty.a)
  const before = readFileSync(file, 'utf8')
  // independent runs (only the first opens the board): side by side to keep the file quick
  const [idle, dup, missing] = await Promise.all([
    cli(['pair', 'button', '--config', file, '--seconds', '2', '--id', 'x'], { timeoutMs: 30_000 }),
    cli(['pair', 'button', '--config', file, '--id', 'counter']),
    cli(['pair', 'button', '--config', file, '--port', '/dev/ttyNOPE-pair', '--id', 'x']),
  ])
  t.equal(idle.code, 1, idle.err)
  t.match(idle.err, /nothing was pressed within 2 s \(watching D2-D13\)/)
  t.equal(dup.code, 1)
  t.match(dup.err, /a device with id "counter" is already in the config: choose another id, or pass --replace/)
  t.equal(missing.code, 1)
  t.match(missing.err, /serial port \/dev\/ttyNOPE-pair not found; serial ports present: .*\/dev\/safehouse-firmata-board-2/)
  t.equal(readFileSync(file, 'utf8'), before, 'config untouched')
})

t.test('--gpio: the key pressed on the input device (struct input_event, as hw-gpio decodes it) is learned', async (t) => {
  const dir = tmpDir(t)
  const fifo = join(dir, 'event0')
  execFileSync('mkfifo', [fifo])
  const file = join(dir, 'config.yaml')
  writeFileSync(file, 'site: s1\npost: p1\n')
  const p = spawnPair(t, ['--gpio', '--input-device', fifo, '--config', file, '--seconds', '20', '--id', 'foot', '--label', 'Foot switch', '--location', 'desk'], '')
  await waitFor(p, /Press the button/, 'the press prompt')
  const w = await open(fifo, 'w')
  t.teardown(() => w.close().catch(() => {}))
  const key = (code: number, value: number): Buffer => Buffer.concat([encodeInputEvent(EV_KEY, code, value), encodeInputEvent(0, 0, 0)])
  await w.write(key(0x101, 1))
  await sleep(150)
  await w.write(key(0x101, 0))
  t.equal(await exited(p), 0, p.output.err)
  t.match(p.output.err, /Learned: key code 257/)
  t.match(devices(file)[0], { id: 'foot', driver: 'gpio', key_code: 257, input_device: fifo, label: 'Foot switch' })
})
