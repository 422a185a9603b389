/**
 * Issue 13 §6: a post with its Firmata board and its lamp box's RS-485 adapter unplugged lists the
 * serial ports for its error messages once a minute, not at every retry of each port. On Linux the
 * binding lists by spawning `udevadm info -e` and parsing its whole output; here a stand-in
 * `udevadm` first on PATH records each spawn and describes one port, so the test also sees that
 * every retry's message still names the ports present (from the shared listing).
 */
import t from 'tap'
import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { startCli, tmpDir } from '../harness/cli-process.js'
import { freePort } from '../harness/mosquitto.js'

t.test('absent board and lamp box: one udevadm spawn for all their retries, each message lists the ports', async (t) => {
  const dir = tmpDir(t)
  const spawns = join(dir, 'udevadm-spawns')
  writeFileSync(join(dir, 'udevadm'), [
    '#!/bin/sh',
    `echo "$*" >> '${spawns}'`,
    "printf 'P: /devices/pci0000:00/usb1/1-1/ttyUSB7\\nN: ttyUSB7\\nE: DEVNAME=/dev/ttyUSB7\\nE: ID_VENDOR_ENC=FakeVendor\\n\\n'",
    '',
  ].join('\n'))
  chmodSync(join(dir, 'udevadm'), 0o755)
  const port = await freePort()
  const config = join(dir, 'c.yaml')
  writeFileSync(config, [
    'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, 'log: { level: info, format: json }',
    `broker: { host: 127.0.0.1, port: ${port} }`, 'station: { url: null }',
    // 50 ms doubling: five retries of the board within ~2 s
    `boards: [{ id: nano, port: ${join(dir, 'no-firmata')}, reconnect_min_ms: 50, reconnect_max_ms: 400 }]`,
    'devices:',
    '  - { id: b1, kind: panic-button, driver: firmata, board: nano, pin: 2 }',
    `  - { id: lamp, kind: lamp-box, driver: modbus, port: ${join(dir, 'no-rs485')}, unit_id: 1 }`,
    '',
  ].join('\n'))
  const p = startCli(['run', '--config', config], { env: { PATH: `${dir}:${process.env.PATH ?? ''}` } })
  t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
  const boardFailures = (): string[] => p.output.out.split('\n').filter((l) => l.includes('"board":"nano"') && l.includes('not found; serial ports present'))
  const lampFailures = (): string[] => p.output.out.split('\n').filter((l) => l.includes('lamp box port cannot be opened'))
  const until = Date.now() + 60_000 // a loaded machine: the bound is for a hang
  while ((boardFailures().length < 5 || lampFailures().length < 1) && Date.now() < until && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  p.kill('SIGTERM')
  await new Promise((r) => p.once('exit', r))
  t.ok(boardFailures().length >= 5, `the board was retried at least 5 times (${boardFailures().length}); stderr: ${p.output.err.slice(-500)}`)
  t.ok(lampFailures().length >= 1, 'the lamp box failed to open')
  for (const l of [...boardFailures(), ...lampFailures()]) t.match(l, /\/dev\/ttyUSB7 \(FakeVendor\)/, 'the message names the port present')
  t.ok(existsSync(spawns), 'udevadm was asked')
  t.same(readFileSync(spawns, 'utf8').trim().split('\n'), ['info -e'], 'one listing for every retry of both ports')
})
