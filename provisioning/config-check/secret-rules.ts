/**
 * What `safehouse config check` adds to the gateway's own validation (issue 14
 * §2): the problems `safehouse run` would only meet when it starts — the
 * secrets file (missing, unreadable, readable by others, invalid), a whistle's
 * key_ref or a password missing from it, a TLS client key others can read —
 * and supervised button loops whose readings are too close together
 * (docs/devices/panic-button.md §2). Every hint names what to run or edit.
 */
import { statSync } from 'node:fs'
import { hasStation } from '../../gateway/config/station-paths.js'
import type { Config } from '../../gateway/config/config-types.js'
import type { ConfigProblem } from '../../gateway/config/config-error.js'
import { loadSecrets, SecretsError, type Secrets } from '../../gateway/config/secrets.js'
import { loopThresholds } from '../../devices/panic-button/loop-supervisor.js'

type Problem = Omit<ConfigProblem, 'line'>

export function secretRules(env: NodeJS.ProcessEnv = process.env): (c: Config) => Problem[] {
  return (c) => {
    const out: Problem[] = []
    let secrets: Secrets | null = null
    try {
      secrets = loadSecrets(c.secrets_file, env)
    } catch (e) {
      if (!(e instanceof SecretsError)) throw e
      out.push({ path: 'secrets_file', message: e.message, hint: 'safehouse run refuses to start like this (docs/install.md §3)' })
    }
    if (secrets) out.push(...missingSecrets(c, secrets))
    out.push(...keyFileMode(c))
    out.push(...loopProblems(c))
    return out
  }
}

function missingSecrets(c: Config, s: Secrets): Problem[] {
  const out: Problem[] = []
  const where = c.secrets_file ?? '(no secrets file: secrets_file is null)'
  c.devices.forEach((d, i) => {
    if (d.kind === 'ble-whistle' && d.key_ref && !s.ble_keys[d.key_ref]) {
      out.push({ path: `devices[${i}].key_ref`, message: `key "${d.key_ref}" is not in ble_keys of ${where}`, hint: 'add it (32 hex digits) under ble_keys in the secrets file, e.g. with `safehouse pair ble --key-stdin`, or remove key_ref' })
    }
  })
  c.broker.users.forEach((u, i) => {
    if (!s.broker_passwords[u.username]) {
      out.push({ path: `broker.users[${i}].username`, message: `"${u.username}" has no password in ${where}: it cannot log in`, hint: `run: safehouse user add ${u.username} --role ${u.role} --secrets ${c.secrets_file ?? 'FILE'}` })
    }
  })
  if (hasStation(c.station) && c.station.username && !s.station_password) {
    out.push({ path: 'station.username', message: `a station login is set but there is no station_password in ${where} nor SAFEHOUSE_STATION_PASSWORD`, hint: 'add station_password to the secrets file (mode 0600) or set the environment variable in the service' })
  }
  if (c.group_fanout.peers.length && c.group_fanout.username && !s.group_password) {
    out.push({ path: 'group_fanout.username', message: `a login at the group peers is set but there is no group_password in ${where} nor SAFEHOUSE_GROUP_PASSWORD`, hint: 'add group_password to the secrets file (docs/group-fanout.md)' })
  }
  return out
}

function keyFileMode(c: Config): Problem[] {
  const f = c.station.key_file
  if (!f) return []
  let mode: number
  try {
    mode = statSync(f).mode
  } catch {
    return [] // a missing file is already reported by the gateway's own rules
  }
  if ((mode & 0o077) === 0) return []
  return [{ path: 'station.key_file', message: `the TLS client key ${f} is readable by others (mode ${(mode & 0o777).toString(8)})`, hint: `run: chmod 600 ${f} (owned by the service user)` }]
}

function loopProblems(c: Config): Problem[] {
  const out: Problem[] = []
  c.devices.forEach((d, i) => {
    if (d.kind !== 'panic-button' || d.wiring !== 'eol_supervised') return
    const r = loopThresholds(
      { refOhms: d.loop_ref_ohms, normalOhms: d.loop_normal_ohms, alarmOhms: d.loop_alarm_ohms, adcMax: d.adc_max },
      { shortBelow: d.loop_short_below, alarmAbove: d.loop_alarm_above, openAbove: d.loop_open_above },
      d.loop_hysteresis,
      0,
    )
    if (!r.ok) out.push({ path: `devices[${i}].loop_alarm_ohms`, message: r.error, hint: 'the readings of normal, alarm, short and open must be apart by more than loop_hysteresis: see docs/devices/panic-button.md §2, and measure the loop with `safehouse pair button --loop N`' })
  })
  return out
}
