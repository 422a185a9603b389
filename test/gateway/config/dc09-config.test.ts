/** Issue 17 "Bad input": the dc09 section's user errors name the line and say what to do. */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../gateway/config/load-config.js'
import type { ConfigProblem } from '../../../gateway/config/config-error.js'
import { configProblems } from '../../harness/config-problems.js'
import { loadSecrets, SecretsError } from '../../../gateway/config/secrets.js'
import { createDc09, Dc09SetupError } from '../../../gateway/dc09/create-dc09.js'
import { DeviceTable } from '../../../gateway/core/device-table.js'
import { systemClock } from '../../../devices/time/clock.js'
import { pino } from 'pino'

const HEAD = 'site: sh-huangpu\npost: kiosk-017\n'
const dc09 = (body: string) => `${HEAD}dc09:\n  enabled: true\n  primary: "arc.example.org:12000"\n${body}`

function problemsOf(text: string): readonly ConfigProblem[] {
  const p = configProblems(text)
  if (p === null) t.fail('config was accepted but should have been refused')
  return p ?? []
}

t.test('a full dc09 section is accepted with its defaults', async (t) => {
  const c = parseConfig(dc09('  account: "5A01F"\n  backup: "10.0.0.2:12000"\n  token: ADM-CID\n  mapping:\n    whistle: { cid: "120" }\n'))
  t.match(c.dc09, { enabled: true, account: '5A01F', token: 'ADM-CID', protocol: 'tcp', prefix: '0', receiver: null, null_poll_s: 60, attempts: 3, tcp_keep_open: false, mapping: { whistle: { cid: '120' } } })
  t.equal(parseConfig(HEAD).dc09.enabled, false, 'off unless enabled')
})

t.test('an account that is not 3-16 hex digits: line and hint', async (t) => {
  for (const acct of ['12', '12345678901234567', 'XYZ1']) {
    const p = problemsOf(dc09(`  account: "${acct}"\n`))
    t.equal(p.length, 1, acct)
    t.match(p[0], { path: 'dc09.account', line: 6, message: /pattern/, hint: /3 to 16 hex digits/ }, acct)
  }
})

t.test('an unknown kind in the mapping override: line, and the kinds to choose from', async (t) => {
  const p = problemsOf(dc09('  account: "1234"\n  mapping:\n    panik: { cid: "120" }\n'))
  t.equal(p.length, 1)
  t.match(p[0], { path: 'dc09.mapping.panik', line: 8, message: /not an alert kind/, hint: /did you mean "panic".*kinds: panic, silent_holdup/ })
  const bad = problemsOf(dc09('  account: "1234"\n  mapping:\n    panic: { cid: "12" }\n'))
  t.match(bad[0], { path: 'dc09.mapping.panic.cid', line: 8 })
})

t.test('enabled without account or primary, backup = primary, and a poll interval that cannot meet the reporting class', async (t) => {
  t.match(problemsOf(`${HEAD}dc09:\n  enabled: true\n`), [{ path: 'dc09', message: /no account/ }, { path: 'dc09', message: /no primary/ }])
  t.match(problemsOf(dc09('  account: "1234"\n  backup: "arc.example.org:12000"\n')), [{ path: 'dc09.backup', line: 7, message: /same as the primary/ }])
  t.match(problemsOf(dc09('  account: "1234"\n  reporting_class: SP6\n  null_poll_s: 60\n')), [{ path: 'dc09.null_poll_s', line: 8, message: /cannot meet SP6 \(path failure reported within 20 s\)/, hint: /at most 15/ }])
  t.doesNotThrow(() => parseConfig(dc09('  account: "1234"\n  reporting_class: SP6\n  null_poll_s: 10\n')))
  t.match(problemsOf(dc09('  account: "1234"\n  backup: "10.0.0.2:70000"\n')), [{ path: 'dc09.backup', line: 7, message: /port 70000 is not 1-65535/ }])
})

t.test('a key of the wrong length in the secrets file: file, line and hint, and the key itself never in the message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-dc09-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = join(dir, 'secrets.yaml')
  const wrong = '00112233445566778899aabbccddeeff0011'
  writeFileSync(f, `station_password: x\ndc09_keys:\n  arc: ${wrong}\n`, { mode: 0o600 })
  const e = t.throws(() => loadSecrets(f, {})) as unknown as Error
  t.type(e, SecretsError)
  t.match(e.message, `${f}:3: dc09_keys.arc is 36 characters, not an AES key`)
  t.match(e.message, /hint: give 32, 48 or 64 hex digits/)
  t.notMatch(e.message, wrong)
  for (const len of [32, 48, 64]) {
    writeFileSync(f, `dc09_keys:\n  arc: ${'ab'.repeat(len / 2)}\n`, { mode: 0o600 })
    t.equal(loadSecrets(f, {}).dc09_keys?.arc.length, len, `AES-${len * 4}`)
  }
})

t.test('a key_ref the secrets file lacks is refused when the gateway is built', async (t) => {
  const c = parseConfig(dc09('  account: "1234"\n  key_ref: arc\n'))
  const deps = { clock: systemClock, log: pino({ level: 'silent' }), devices: new DeviceTable([], { keyedDedupeMs: 0, unkeyedDedupeMs: 0 }), idOf: String }
  const e = t.throws(() => createDc09(c, { station_password: null, broker_passwords: {}, ble_keys: {} }, deps)) as unknown as Error
  t.type(e, Dc09SetupError)
  t.match(e.message, /dc09\.key_ref "arc" is not in the secrets file's dc09_keys/)
})
