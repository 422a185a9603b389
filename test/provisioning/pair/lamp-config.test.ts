/** Writing the lamp box found by `pair lamp` (provisioning/pair/lamp-config.ts) and parsing --units. */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { writeLamp } from '../../../provisioning/pair/lamp-config.js'
import { parseUnits } from '../../../provisioning/pair/lamp-scan.js'
import { tmpDir } from '../../harness/cli-process.js'

const line = { port: '/dev/ttyUSB1', baud: 9600, parity: 'none' as const, stop_bits: 1 as const }

t.test('a new lamp box: only what differs from the defaults, plus port, baud and unit', async (t) => {
  const file = join(tmpDir(t), 'c.yaml')
  writeFileSync(file, 'site: s1\npost: p1\n')
  t.same(writeLamp(file, { ...line, unit: 4, profile: 'generic-dido' }), { id: 'lamp-box', updated: false })
  t.same(parse(readFileSync(file, 'utf8')).devices, [{ id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: '/dev/ttyUSB1', baud: 9600, parity: 'none', unit_id: 4, profile: 'generic-dido' }])
})

t.test('an existing lamp box is updated in place, renamed with --id; a taken id refused', async (t) => {
  const file = join(tmpDir(t), 'c.yaml')
  writeFileSync(file, 'site: s1\npost: p1\ndevices:\n  - id: lamp\n    kind: lamp-box\n    parity: even  # as shipped\n    alarm_hold_s: 60\n  - { id: counter, kind: panic-button }\n')
  t.same(writeLamp(file, { port: '/dev/ttyUSB0', baud: 19200, parity: 'even', stop_bits: 1, unit: 2, id: 'roof', profile: 'safehouse' }), { id: 'roof', updated: true })
  const text = readFileSync(file, 'utf8')
  t.match(text, /parity: even +# as shipped/)
  t.same(parse(text).devices[0], { id: 'roof', kind: 'lamp-box', parity: 'even', alarm_hold_s: 60, driver: 'modbus', port: '/dev/ttyUSB0', baud: 19200, unit_id: 2 })
  t.throws(() => writeLamp(file, { ...line, unit: 2, id: 'counter' }), /"counter" is already in the config/)
})

t.test('--units', async (t) => {
  t.same(parseUnits('1-5'), [1, 2, 3, 4, 5])
  t.same(parseUnits('7,2,2, 3-4'), [2, 3, 4, 7])
  t.equal(parseUnits('1-247').length, 247)
  for (const bad of ['0', '248', '5-2', 'a', '1-', '']) t.throws(() => parseUnits(bad), /give unit ids 1-247/, bad)
})
