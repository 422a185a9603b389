/**
 * Prompter (questions on a terminal or answers piped one per line) and
 * config-file (edit a config in place, validated, atomic), driven through
 * in-memory streams and temp files: no process, no terminal.
 */
import t from 'tap'
import { PassThrough } from 'node:stream'
import { readFileSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Prompter, PromptError, maskUrlPassword } from '../../../provisioning/shared/prompter.js'
import { addDevice, deviceIds, editConfigFile, readConfigDocument, writeConfigText } from '../../../provisioning/shared/config-file.js'
import { tmpDir } from '../../harness/cli-process.js'

function io(o: { tty?: boolean } = {}) {
  const rawModes: boolean[] = []
  const input = Object.assign(new PassThrough(), o.tty ? { isTTY: true, setRawMode: (on: boolean) => { rawModes.push(on) } } : {})
  const output = new PassThrough()
  let written = ''
  output.on('data', (d: Buffer) => { written += d.toString() })
  return { input, output, rawModes, written: () => written }
}

t.test('script mode: several answers written at once are all used, in order', async (t) => {
  const s = io()
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  s.input.write('first\nsecond\r\nthird\n') // one chunk, CRLF in the middle
  t.equal(await p.ask('A'), 'first')
  t.equal(await p.secret('B'), 'second', 'a CR before LF is dropped')
  t.equal(await p.ask('C'), 'third')
  const later = p.ask('D')
  s.input.write('fourth\n') // arrives after the question
  t.equal(await later, 'fourth')
  t.match(s.written(), /^A: \nB: \nC: \nD: \n$/, 'each question is shown on the output, never an answer')
})

t.test('script mode: empty answer takes the default; spaces are trimmed (not for secrets)', async (t) => {
  const s = io()
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  s.input.end('\n  spaced  \n\n  pw with spaces \n')
  t.equal(await p.ask('Port', { default: '1883' }), '1883')
  t.equal(await p.ask('Name', { default: 'x' }), 'spaced')
  t.equal(await p.ask('Group'), '', 'no default: empty stays empty')
  t.equal(await p.secret('Password'), '  pw with spaces ', 'a secret is taken as typed')
  t.match(s.written(), /Port \[1883\]: /, 'the default is shown in brackets')
})

t.test('script mode: a bad answer throws naming the question and the problem', async (t) => {
  const s = io()
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  s.input.end('Bad Id\nshort\nmqtts://u:hunter2@host\n')
  const validate = (a: string) => (/^[a-z]+$/.test(a) ? null : 'lower-case letters only')
  await t.rejects(p.ask('Site id', { validate }), new PromptError('answer "Bad Id" for "Site id": lower-case letters only'))
  const err = await p.secret('Password', { validate: (a) => (a.length >= 8 ? null : 'at least 8 characters') }).catch((e: Error) => e)
  t.type(err, PromptError)
  t.match((err as Error).message, /"Password".*at least 8 characters/)
  t.notOk((err as Error).message.includes('short'), 'a bad secret is not repeated back')
  const url = await p.ask('Station URL', { validate: () => 'no credentials in the URL' }).catch((e: Error) => e)
  t.match((url as Error).message, /answer "mqtts:\/\/u:\*\*\*@host" for "Station URL"/)
  t.notOk((url as Error).message.includes('hunter2'), 'a password inside a URL is masked')
})

t.test('script mode: input ends before the answer', async (t) => {
  const s = io()
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  s.input.end('only-one\n')
  t.equal(await p.ask('One'), 'only-one')
  await t.rejects(p.ask('Two'), { name: 'Error', message: /no answer for "Two" on standard input/ })
  await t.rejects(p.secret('Three'), /no answer for "Three"/)
})

t.test('confirm and choose', async (t) => {
  const s = io()
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  s.input.end('\nYes\nn\n\nlookout\nsafety_house\nkiosk\nmaybe\n')
  t.equal(await p.confirm('Add a user?', false), false, 'empty -> default no')
  t.equal(await p.confirm('Again?', false), true, 'Yes (any case)')
  t.equal(await p.confirm('More?', true), false)
  t.equal(await p.choose('Type', ['safety_house', 'lookout'] as const, 'safety_house'), 'safety_house', 'empty -> default')
  t.equal(await p.choose('Type', ['safety_house', 'lookout'] as const), 'lookout')
  t.equal(await p.choose('Type', ['safety_house', 'lookout'] as const), 'safety_house')
  await t.rejects(p.choose('Type', ['safety_house', 'lookout'] as const), /answer "kiosk" for "Type \(safety_house\/lookout\)": choose one of safety_house, lookout/)
  await t.rejects(p.confirm('Sure?', true), /answer y or n/)
  t.match(s.written(), /Add a user\? \(y\/n\) \[n\]: /)
})

t.test('terminal: a bad answer is asked again; a secret is not echoed and stdin survives it', async (t) => {
  const s = io({ tty: true })
  const p = new Prompter({ input: s.input, output: s.output })
  t.teardown(() => p.close())
  const site = p.ask('Site id', { validate: (a) => (/^[a-z]+$/.test(a) ? null : 'lower-case letters only') })
  s.input.write('BAD\r')
  setImmediate(() => s.input.write('good\r'))
  t.equal(await site, 'good')
  t.match(s.written(), /lower-case letters only/, 'the problem is shown and the question asked again')

  const before = s.written().length
  const modes = s.rawModes.length
  const pw = p.secret('Password')
  s.input.write('s3cr\u007fet!\r') // with a backspace
  t.equal(await pw, 's3cet!')
  t.notOk(s.written().slice(before).includes('s3c'), 'nothing of the secret is echoed')
  t.same(s.rawModes.slice(modes), [true, false], 'raw mode on for the secret, off again after')
  t.notOk(s.input.destroyed, 'stdin is not destroyed by the hidden read')

  const after = p.ask('Next')
  s.input.write('still-here\r')
  t.equal(await after, 'still-here', 'the next question still reads the terminal')
  const cancelled = p.secret('Password')
  s.input.write('\u0003')
  await t.rejects(cancelled, new PromptError('cancelled'))
})

t.test('maskUrlPassword keeps everything but the password', async (t) => {
  t.equal(maskUrlPassword('mqtts://gw:pw@host:8883/x'), 'mqtts://gw:***@host:8883/x')
  t.equal(maskUrlPassword('mqtts://host:8883'), 'mqtts://host:8883')
  t.equal(maskUrlPassword('kiosk-017'), 'kiosk-017')
})

t.test('config-file: edit in place keeps comments, validates, writes atomically with the old mode', async (t) => {
  const dir = tmpDir(t)
  const file = join(dir, 'config.yaml')
  writeFileSync(file, '# the header stays\nsite: s1\npost: p1 # inline stays\ndevices:\n  - { id: b1, kind: panic-button, driver: sim }\n')
  chmodSync(file, 0o640)
  const doc = readConfigDocument(file)
  t.same(deviceIds(doc), ['b1'])
  t.throws(() => addDevice(doc, { id: 'b1', kind: 'panic-button', driver: 'sim' }), /already in the config.*--replace/)

  const c = editConfigFile(file, (d) => addDevice(d, { id: 'w1', kind: 'ble-whistle', address: 'A4:C1:38:12:34:07' }))
  t.same(c.devices.map((d) => d.id), ['b1', 'w1'])
  const text = readFileSync(file, 'utf8')
  t.match(text, /^# the header stays\n/)
  t.match(text, /post: p1 # inline stays/)
  t.equal(statSync(file).mode & 0o777, 0o640, 'mode kept')
  t.same(readdirSync(dir), ['config.yaml'], 'no temp file left')

  editConfigFile(file, (d) => addDevice(d, { id: 'b1', kind: 'panic-button', driver: 'sim', label: 'Counter' }, true))
  t.match(readFileSync(file, 'utf8'), /label: Counter/, 'replace in place')
  t.same(deviceIds(readConfigDocument(file)), ['b1', 'w1'], 'same order')
})

t.test('config-file: an invalid result is refused and the file left as it was', async (t) => {
  const dir = tmpDir(t)
  const file = join(dir, 'config.yaml')
  const before = 'site: s1\npost: p1\n'
  writeFileSync(file, before)
  t.throws(() => editConfigFile(file, (d) => addDevice(d, { id: 'x', kind: 'panic-button', pin: -4 })), { code: 'CONFIG_INVALID' })
  t.equal(readFileSync(file, 'utf8'), before)
  t.throws(() => writeConfigText(file, 'site: Not Valid\n'), { code: 'CONFIG_INVALID', message: /site/ })
  t.equal(readFileSync(file, 'utf8'), before)
  const fresh = join(dir, 'new.yaml')
  writeConfigText(fresh, 'site: s2\npost: p2\n')
  t.equal(statSync(fresh).mode & 0o777, 0o644, 'a new config is world-readable (it holds no secrets)')
  t.throws(() => readConfigDocument(join(dir, 'missing.yaml')), /does not exist: create it first with `safehouse init --config/)
  writeFileSync(join(dir, 'broken.yaml'), 'site: [\n')
  t.throws(() => readConfigDocument(join(dir, 'broken.yaml')), /is not valid YAML/)
})
