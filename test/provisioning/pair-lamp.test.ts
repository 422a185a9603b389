/**
 * `safehouse pair lamp` as a technician runs it (issue 7 §2, §7): a spawned
 * CLI probing unit ids through modbus-serial + serialport on a socat PTY pair,
 * with the Modbus RTU slave (test/harness/lamp-box-slave.ts, the controller
 * model shared with the sim twin) on the far end.
 */
import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { PtyPair } from '../harness/pty-pair.js'
import { LampBoxSlave } from '../harness/lamp-box-slave.js'
import { cli, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { LampBoxControllerModel } from '../../devices/lamp-box/controller-model.js'

t.setTimeout(90_000)

async function line(t: Test, model: LampBoxControllerModel): Promise<{ pty: PtyPair; slave: LampBoxSlave }> {
  const pty = await new PtyPair('pair-lamp').open()
  const slave = new LampBoxSlave(pty.b, model)
  t.teardown(async () => { await slave.close(); await pty.close() })
  await slave.open()
  return { pty, slave }
}

// Generous per-unit timeout: a loaded 2-core machine can take well over 100 ms to answer on a PTY.
const SCAN = ['--units', '1-9', '--timeout-ms', '400']

t.test('finds the controller among the scanned ids and writes it with --add (existing lamp box updated in place)', async (t) => {
  const { pty, slave } = await line(t, new LampBoxControllerModel({ unitId: 7 }))
  const file = join(tmpDir(t), 'config.yaml')
  writeFileSync(file, [
    'site: s1', 'post: p1', 'devices:',
    '  - id: lamp', '    kind: lamp-box', '    driver: sim', '    location: roof, north side  # keep this', '    unit_id: 1', '',
  ].join('\n'))
  const r = await cli(['pair', 'lamp', '--config', file, '--port', pty.a, ...SCAN, '--add', '--json'], { timeoutMs: 40_000 })
  t.equal(r.code, 0, r.err)
  t.match(r.err, /Probing 9 unit ids on .* at 19200 8E1/)
  t.match(r.err, /unit 7: safehouse lamp-box controller, firmware 1\.2: pattern normal, lit red\+blue, red 350 mA, blue 350 mA, mains ok, battery 96 %/)
  t.match(r.err, /The config's lamp box "lamp" has unit_id 1, which did not answer/)
  t.match(r.err, /Updated lamp box "lamp" \(unit 7/)
  const out = JSON.parse(r.out)
  t.match(out, { ok: true, units: 9, answered: [{ unit: 7, model: 'safehouse', firmware: '1.2' }], written: { id: 'lamp', unit_id: 7, updated: true } })
  t.equal(out.answered.length, 1, 'only the controller answered')
  t.same([...new Set(slave.requests.filter((q) => q.fc === 4).map((q) => q.unit))].slice(0, 9), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'every id probed in order')
  const text = readFileSync(file, 'utf8')
  t.match(text, /# keep this/, 'comments kept')
  t.match(parse(text).devices[0], { id: 'lamp', kind: 'lamp-box', driver: 'modbus', port: pty.a, baud: 19200, unit_id: 7, location: 'roof, north side' })
  const check = await cliInProcess(['config', 'check', file]) // spawned in cli.test.ts
  t.equal(check.code, 0, check.err)
})

t.test('a generic DI/DO module is recognised; without --add nothing is written', async (t) => {
  const { pty } = await line(t, new LampBoxControllerModel({ profile: 'generic-dido', unitId: 3 }))
  const file = join(tmpDir(t), 'config.yaml')
  writeFileSync(file, 'site: s1\npost: p1\n')
  const before = readFileSync(file, 'utf8')
  const r = await cli(['pair', 'lamp', '--config', file, '--port', pty.a, '--units', '2,3,4', '--timeout-ms', '400'], { timeoutMs: 40_000 })
  t.equal(r.code, 0, r.err)
  t.match(r.err, /unit 3: Modbus I\/O module \(no safehouse registers: FC04 exception 1; answers FC02\)/)
  t.match(r.err, /Nothing written: run again with --add/)
  t.equal(r.out.trim(), 'unit 3: generic-dido')
  t.equal(readFileSync(file, 'utf8'), before)
  const added = await cli(['pair', 'lamp', '--config', file, '--port', pty.a, '--units', '3', '--timeout-ms', '400', '--add', '--id', 'roof-lamp'], { timeoutMs: 40_000 })
  t.equal(added.code, 0, added.err)
  t.match(parse(readFileSync(file, 'utf8')).devices[0], { id: 'roof-lamp', kind: 'lamp-box', driver: 'modbus', unit_id: 3, profile: 'generic-dido' })
})

t.test('nothing answers: exit 1 with the hints; a missing adapter: exit 1 naming the port', async (t) => {
  const { pty, slave } = await line(t, new LampBoxControllerModel({ unitId: 1 }))
  slave.mode = 'silent'
  const file = join(tmpDir(t), 'config.yaml')
  writeFileSync(file, 'site: s1\npost: p1\n')
  // Three independent processes, side by side (issue 14 §5).
  const [r, missing, usage] = await Promise.all([
    cli(['pair', 'lamp', '--config', file, '--port', pty.a, '--units', '1-4', '--timeout-ms', '200', '--add'], { timeoutMs: 40_000 }),
    cli(['pair', 'lamp', '--config', file, '--port', '/dev/ttyNOPE-lamp', '--units', '1']),
    cli(['pair', 'lamp', '--units', '0-300']),
  ])
  t.equal(r.code, 1)
  t.match(r.err, /nothing answered on .* at 19200 8E1 \(unit ids 1-4\)/)
  t.match(r.err, /A and B \(D-\/D\+\) swapped/)
  t.match(r.err, /baud, parity and stop bits/)
  t.match(r.err, /termination/)
  t.match(r.err, /probe all with --units 1-247/)
  t.equal(readFileSync(file, 'utf8'), 'site: s1\npost: p1\n', 'config untouched')

  t.equal(missing.code, 1)
  t.match(missing.err, /cannot open serial port \/dev\/ttyNOPE-lamp \(.*\)\. Serial ports present: .*Give the RS-485 adapter's port with --port \(after `safehouse install` it is \/dev\/safehouse-rs485/)
  t.equal(usage.code, 2)
  t.match(usage.err, /--units "0-300": give unit ids 1-247/)
})
