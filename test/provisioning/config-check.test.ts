/**
 * Issue 14 §2: `config check` catches what `run` meets only at start — the
 * secrets file (mode, missing, unreadable), a key_ref or password missing
 * from it, a TLS client key readable by others, supervised loop thresholds
 * too close together (docs/devices/panic-button.md §2) — each at its line.
 */
import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { cliInProcess } from '../harness/cli-in-process.js'
import { writeSecrets } from '../../gateway/config/secrets.js'
import { hashPassword } from '../../gateway/config/password-hash.js'
import { tmpDir, type CliResult } from '../harness/cli-process.js'

// Loading the modules alone takes seconds on a loaded 2-core machine.
t.setTimeout(60_000)

/** `safehouse config check FILE` in process (runCli, the function the binary calls). */
function check(file: string): Promise<CliResult> {
  return cliInProcess(['config', 'check', file])
}

t.test('secrets, keys, passwords, TLS key mode, loop thresholds', async (t) => {
  const dir = tmpDir(t)
  const secrets = join(dir, 'secrets.yaml')
  const key = join(dir, 'client.key')
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\n', { mode: 0o600 })
  writeFileSync(join(dir, 'client.crt'), 'cert\n')
  const config = (over: Record<string, unknown> = {}) => {
    const file = join(dir, 'site.yaml')
    writeFileSync(file, stringify({
      site: 's1', post: 'p1', secrets_file: secrets,
      broker: { users: [{ username: 'panel-1', role: 'panel' }] },
      station: { url: 'mqtts://localhost:8883', username: 'gw-p1', cert_file: join(dir, 'client.crt'), key_file: key },
      devices: [
        { id: 'whistle-07', kind: 'ble-whistle', address: 'A4:C1:38:00:00:07', key_ref: 'whistle-07' },
        { id: 'door', kind: 'panic-button', driver: 'firmata', wiring: 'eol_supervised' },
      ],
      boards: [{ id: 'main', port: '/dev/ttyUSB0' }],
      ...over,
    }))
    return file
  }
  writeSecrets(secrets, { station_password: 'pw', broker_passwords: { 'panel-1': await hashPassword('panel-pass', 1024) }, ble_keys: { 'whistle-07': '231d39c1d7cc1ab1aee224cd096db932' } })
  const good = await check(config())
  t.equal(good.code, 0, `a complete post passes: ${good.err}`)
  t.match(good.out, /OK — site s1, post p1, 2 device\(s\)/)

  // Secrets file readable by others: run refuses it, so does check.
  chmodSync(secrets, 0o644)
  let r = await check(config())
  t.equal(r.code, 1)
  t.match(r.err, /site\.yaml:\d+ +secrets_file: secrets file .* is readable by others \(mode 644\); run: chmod 600/)
  chmodSync(secrets, 0o600)

  r = await check(config({ secrets_file: join(dir, 'missing.yaml') }))
  t.equal(r.code, 1)
  t.match(r.err, /secrets_file: secrets file .*missing\.yaml does not exist/)

  // Key and passwords missing from the secrets file.
  writeSecrets(secrets, { station_password: null, broker_passwords: {}, ble_keys: {} })
  r = await check(config())
  t.equal(r.code, 1)
  t.match(r.err, /3 problems/)
  t.match(r.err, /site\.yaml:\d+ +devices\[0\]\.key_ref: key "whistle-07" is not in ble_keys/)
  t.match(r.err, /broker\.users\[0\]\.username: "panel-1" has no password .*\n\s+hint: run: safehouse user add panel-1 --role panel --secrets /)
  t.match(r.err, /station\.username: a station login is set but there is no station_password/)
  writeSecrets(secrets, { station_password: 'pw', broker_passwords: { 'panel-1': await hashPassword('panel-pass', 1024) }, ble_keys: { 'whistle-07': '231d39c1d7cc1ab1aee224cd096db932' } })

  // A TLS client key others can read.
  chmodSync(key, 0o644)
  r = await check(config())
  t.equal(r.code, 1)
  t.match(r.err, /station\.key_file: the TLS client key .*client\.key is readable by others \(mode 644\)\n\s+hint: run: chmod 600/)
  chmodSync(key, 0o600)

  // Loop readings too close: 2k2 normal vs 2k4 alarm on a 4k7 reference are ~15 counts apart.
  r = await check(config({ devices: [{ id: 'door', kind: 'panic-button', driver: 'firmata', wiring: 'eol_supervised', loop_alarm_ohms: 2400 }] }))
  t.equal(r.code, 1)
  t.match(r.err, /site\.yaml:\d+ +devices\[0\]\.loop_alarm_ohms: loop thresholds .* are not increasing with room for hysteresis 20/)
  t.match(r.err, /docs\/devices\/panic-button\.md/)
})

// Issue 16 §1: an endpoint whose host does not resolve is a config error (at run time it is only failed over).
t.test('a station endpoint that does not resolve, at its line', async (t) => {
  const dir = tmpDir(t)
  const file = join(dir, 'site.yaml')
  const write = (endpoints: string[]) => writeFileSync(file, stringify({ site: 's1', post: 'p1', station: { endpoints } }))
  write(['mqtts://localhost:8883', 'mqtts://no-such-station.invalid:8883', 'mqtts://10.9.8.7:8883'])
  const r = await check(file)
  t.equal(r.code, 1)
  t.match(r.err, /1 problem\n/)
  t.match(r.err, /site\.yaml:6 +station\.endpoints\[1\]: host "no-such-station\.invalid" does not resolve\n\s+hint: check the spelling and this Pi's DNS/)
  write(['mqtts://localhost:8883', 'mqtts://10.9.8.7:8883'])
  const ok = await check(file)
  t.equal(ok.code, 0, ok.err)
  t.match(ok.out, /station mqtts:\/\/localhost:8883, mqtts:\/\/10\.9\.8\.7:8883/)
})
