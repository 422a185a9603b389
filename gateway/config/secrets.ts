/**
 * Secrets live outside the main config (issue 2 §4): a YAML file of mode 0600
 * and/or environment variables. They are never logged (logging.ts redacts the
 * field names below) and only ever written 0600, atomically.
 *
 *   station_password: ...            # or env SAFEHOUSE_STATION_PASSWORD
 *   broker_passwords:                # scrypt hashes, see password-hash.ts
 *     panel-1: scrypt$16384$8$1$<salt>$<hash>
 *   ble_keys:                        # 16-byte AES keys, hex (BTHome v2 encryption)
 *     whistle-07: 231d39c1d7cc1ab1aee224cd096db932
 *   group_password: ...              # our login at the group peers' brokers; or env SAFEHOUSE_GROUP_PASSWORD
 *   dc09_keys:                       # AES keys for the DC-09 path (issue 17), hex: 32/48/64 digits
 *     arc-main: 000102030405060708090a0b0c0d0e0f
 */
import { readFileSync, statSync } from 'node:fs'
import { writeFileAtomic } from './atomic-file.js'
import { parse, stringify } from 'yaml'
import { lineOfKey } from './yaml-line.js'

export interface Secrets {
  station_password: string | null
  broker_passwords: Record<string, string>
  ble_keys: Record<string, string>
  /** Our password at the group peers' embedded brokers (issue 6 §5). */
  group_password?: string | null
  /** DC-09 AES keys by name (config dc09.key_ref), hex (issue 17). */
  dc09_keys?: Record<string, string>
}

export class SecretsError extends Error {
  readonly code = 'SECRETS_INVALID'
}

export function emptySecrets(): Secrets {
  return { station_password: null, broker_passwords: {}, ble_keys: {} }
}

/** Read the secrets file (if any) and apply environment overrides. */
export function loadSecrets(file: string | null, env: NodeJS.ProcessEnv = process.env): Secrets {
  const s = emptySecrets()
  if (file) {
    let mode: number
    try {
      mode = statSync(file).mode
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') throw new SecretsError(`secrets file ${file} does not exist; create it with \`safehouse user add\` or set secrets_file: null and use environment variables`)
      throw new SecretsError(`cannot read secrets file ${file} (${code}); it must be readable by the service user`)
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretsError(`secrets file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`)
    }
    let data: unknown
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
      data = parse(text) ?? {}
    } catch (e) {
      throw new SecretsError(`secrets file ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SecretsError(`secrets file ${file} must be a YAML mapping`)
    const d = data as Record<string, unknown>
    for (const k of Object.keys(d)) {
      if (!['station_password', 'broker_passwords', 'ble_keys', 'group_password', 'dc09_keys'].includes(k)) throw new SecretsError(`secrets file ${file}: unknown key "${k}" (known: station_password, broker_passwords, ble_keys, group_password, dc09_keys)`)
    }
    if (d.station_password != null) {
      if (typeof d.station_password !== 'string') throw new SecretsError(`secrets file ${file}: station_password must be a string`)
      s.station_password = d.station_password
    }
    if (d.group_password != null) {
      if (typeof d.group_password !== 'string') throw new SecretsError(`secrets file ${file}: group_password must be a string`)
      s.group_password = d.group_password
    }
    s.broker_passwords = stringMap(d.broker_passwords, 'broker_passwords', file)
    s.ble_keys = stringMap(d.ble_keys, 'ble_keys', file)
    for (const [dev, key] of Object.entries(s.ble_keys)) {
      if (!/^[0-9a-fA-F]{32}$/.test(key)) throw new SecretsError(`secrets file ${file}: ble_keys.${dev} must be 32 hex digits (a 16-byte AES key)`)
    }
    if (d.dc09_keys != null) {
      s.dc09_keys = stringMap(d.dc09_keys, 'dc09_keys', file)
      for (const [name, key] of Object.entries(s.dc09_keys)) {
        // The key itself never appears in the message (it is a secret even when wrong).
        if (!/^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(key)) {
          const line = lineOfKey(text, ['dc09_keys', name])
          throw new SecretsError(`secrets file ${file}${line ? `:${line}` : ''}: dc09_keys.${name} is ${key.length} characters, not an AES key\n      hint: give 32, 48 or 64 hex digits (AES-128/192/256), the key the receiving centre set for this account`)
        }
      }
    }
  }
  if (env.SAFEHOUSE_STATION_PASSWORD) s.station_password = env.SAFEHOUSE_STATION_PASSWORD
  if (env.SAFEHOUSE_GROUP_PASSWORD) s.group_password = env.SAFEHOUSE_GROUP_PASSWORD
  return s
}

function stringMap(v: unknown, name: string, file: string): Record<string, string> {
  if (v == null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new SecretsError(`secrets file ${file}: ${name} must be a mapping`)
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw new SecretsError(`secrets file ${file}: ${name}.${k} must be a string`)
    out[k] = val
  }
  return out
}

/** Write secrets atomically with mode 0600. */
export function writeSecrets(file: string, s: Secrets): void {
  writeFileAtomic(file, stringify(s), 0o600)
}
