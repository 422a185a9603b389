/** Rules one field cannot check alone (run after the schema passes). */
import { existsSync } from 'node:fs'
import type { Config } from './config-types.js'
import type { ConfigProblem } from './config-error.js'
import { RESERVED_POST } from '../../protocols/mqtt/topics.js'

export function crossFieldProblems(c: Config): Omit<ConfigProblem, 'line'>[] {
  const out: Omit<ConfigProblem, 'line'>[] = []
  if (c.post === RESERVED_POST) out.push({ path: 'post', message: `"${RESERVED_POST}" is reserved (the group fan-out topics live under <site>/${RESERVED_POST}/)`, hint: 'choose another post id, e.g. "kiosk-017"' })
  const seen = new Map<string, number>()
  c.devices.forEach((d, i) => {
    if (d.id === 'gateway') out.push({ path: `devices[${i}].id`, message: '"gateway" is reserved for the gateway itself', hint: 'choose another id' })
    const first = seen.get(d.id)
    if (first !== undefined) out.push({ path: `devices[${i}].id`, message: `"${d.id}" is already used by devices[${first}]`, hint: 'device ids must be unique on a post' })
    else seen.set(d.id, i)
  })
  const lamps = c.devices.filter((d) => d.kind === 'lamp-box').length
  if (lamps > 1) out.push({ path: 'devices', message: `${lamps} lamp boxes configured`, hint: 'a post has one lamp box; remove the extra entries' })
  const users = new Set<string>()
  c.broker.users.forEach((u, i) => {
    if (users.has(u.username)) out.push({ path: `broker.users[${i}].username`, message: `"${u.username}" is listed twice`, hint: 'each broker user once' })
    users.add(u.username)
  })
  const s = c.station
  if (s.url) {
    if (s.url.startsWith('mqtt://') || s.url.startsWith('ws://')) {
      if (s.cert_file || s.key_file || s.ca_file) out.push({ path: 'station.url', message: 'TLS files are set but the URL is not encrypted', hint: 'use mqtts:// (or wss://) so the certificates are used' })
    }
    if (!!s.cert_file !== !!s.key_file) out.push({ path: s.cert_file ? 'station.key_file' : 'station.cert_file', message: 'a client certificate needs both cert_file and key_file', hint: 'set both, or neither' })
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      const f = s[k]
      if (f && !existsSync(f)) out.push({ path: `station.${k}`, message: `file "${f}" does not exist`, hint: 'give the full path of the PEM file on this Pi' })
    }
  }
  if (s.backoff_max_ms < s.backoff_initial_ms) out.push({ path: 'station.backoff_max_ms', message: `is smaller than backoff_initial_ms (${s.backoff_initial_ms})`, hint: 'the longest delay must be at least the first one' })
  return out
}
