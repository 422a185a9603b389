/** The config side of `pair button` (provisioning/pair/button-config.ts): no hardware. */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { panicButtonDefaults } from '../../../devices/panic-button/config.js'
import { firmataBoardDefaults } from '../../../devices/panic-button/board-config.js'
import { chooseBoard, idProblem, inputOwner, keptFields, writeButton } from '../../../provisioning/pair/button-config.js'
import { tmpDir } from '../../harness/cli-process.js'

const TEXT = `site: s1
post: p1
boards:
  - { id: main, port: /dev/ttyACM0 }   # the Nano
  - { id: aux, port: /dev/ttyACM1 }
devices:
  - { id: counter, kind: panic-button, driver: firmata, board: main, pin: 2, alert_kind: duress, hold_ms: 800, label: Counter }
  - { id: loop, kind: panic-button, driver: firmata, board: main, wiring: eol_supervised, analog_pin: 0 }
  - { id: foot, kind: panic-button, driver: gpio, key_code: 257 }
`
const config = parseConfig(TEXT)

t.test('which board: by id, by port, a new one for a new port, refusals', async (t) => {
  t.match(await chooseBoard(config, { board: 'aux' }), { board: { id: 'aux', port: '/dev/ttyACM1' }, isNew: false })
  t.match(await chooseBoard(config, { port: '/dev/ttyACM1' }), { board: { id: 'aux' }, isNew: false })
  t.match(await chooseBoard(config, { port: '/dev/ttyUSB3' }), { board: { id: 'board-2', port: '/dev/ttyUSB3', baud: 57600 }, isNew: true })
  t.match(await chooseBoard(config, { port: '/dev/ttyUSB3', board: 'door' }), { board: { id: 'door' }, isNew: true })
  await t.rejects(chooseBoard(config, {}), /the config has several boards \(main \(\/dev\/ttyACM0\), aux \(\/dev\/ttyACM1\)\): pick one with --board ID/)
  await t.rejects(chooseBoard(config, { board: 'nope' }), /board "nope" is not in the config \(boards: main \(\/dev\/ttyACM0\), aux/)
  await t.rejects(chooseBoard(config, { board: 'main', port: '/dev/ttyACM1' }), /board "main" is on \/dev\/ttyACM0 in the config, not \/dev\/ttyACM1/)
  await t.rejects(chooseBoard(config, { board: 'door', port: '/dev/ttyACM1' }), /\/dev\/ttyACM1 is board "aux" in the config: use --board aux/)
  const one = parseConfig('site: s1\npost: p1\nboards: [{ id: only, port: /dev/ttyACM0 }]\n')
  t.match(await chooseBoard(one, {}), { board: { id: 'only' }, isNew: false })
  t.match(await chooseBoard(parseConfig('site: s1\npost: p1\n'), { port: '/dev/ttyACM0' }), { board: { id: 'main' }, isNew: true })
})

t.test('ids and inputs already taken', async (t) => {
  t.equal(idProblem(config, 'door', false), null)
  t.match(idProblem(config, 'counter', false), /already in the config.*--replace/)
  t.equal(idProblem(config, 'counter', true), null)
  t.match(idProblem(config, 'Bad Id', false), /lower-case/)
  const d = (over: Parameters<typeof panicButtonDefaults>[1]) => panicButtonDefaults('new', { driver: 'firmata', ...over })
  t.equal(inputOwner(config.devices, d({ board: 'main', pin: 2 })), 'counter')
  t.equal(inputOwner(config.devices, d({ board: 'aux', pin: 2 })), null, 'same pin, other board')
  t.equal(inputOwner(config.devices, d({ board: 'main', pin: 3 })), null)
  t.equal(inputOwner(config.devices, d({ board: 'main', wiring: 'eol_supervised', analog_pin: 0 })), 'loop')
  t.equal(inputOwner(config.devices, d({ board: 'main', wiring: 'eol_supervised', analog_pin: 1 })), null)
  t.equal(inputOwner(config.devices, panicButtonDefaults('counter', { driver: 'firmata', pin: 2 })), null, 'the device being replaced')
  t.equal(inputOwner(config.devices, panicButtonDefaults('x', { driver: 'gpio', key_code: 257 })), 'foot')
})

t.test('--replace keeps the settings pairing does not decide', async (t) => {
  t.same(keptFields(config, 'counter', true), { label: 'Counter', alert_kind: 'duress', hold_ms: 800 })
  t.same(keptFields(config, 'counter', false), {})
})

t.test('written with a new board entry; comments kept; validated', async (t) => {
  const file = join(tmpDir(t), 'c.yaml')
  writeFileSync(file, TEXT)
  writeButton(file, { id: 'door', kind: 'panic-button', driver: 'firmata', board: 'side', pin: 4 }, firmataBoardDefaults('side', '/dev/ttyUSB5'), false)
  const text = readFileSync(file, 'utf8')
  t.match(text, /# the Nano/)
  const data = parse(text)
  t.match(data.boards[2], { id: 'side', port: '/dev/ttyUSB5' })
  t.match(data.devices[3], { id: 'door', board: 'side', pin: 4 })
  t.throws(() => writeButton(file, { id: 'door', kind: 'panic-button', pin: 5 }, null, false), /already in the config/)
  t.throws(() => writeButton(file, { id: 'bad', kind: 'panic-button', driver: 'firmata', board: 'ghost', pin: 5 }, null, false), /board "ghost" is not in the boards: section/)
  t.equal(readFileSync(file, 'utf8'), text, 'a refused write leaves the file as it was')
})
