/**
 * Cross-field rules of `station:` (run after the schema passes; issue 16 §1 "bad input"):
 * one of url / endpoints / paths, no empty list, no endpoint twice (anywhere: two paths
 * over one broker are not two paths), no unencrypted endpoint off this machine while
 * require_tls is on, TLS files only with an encrypted endpoint, both halves of a client
 * certificate, the PEM files present.
 */
import { existsSync } from 'node:fs'
import type { Config } from './config-types.js'
import type { ConfigProblem } from './config-error.js'
import { endpointHost, endpointKey, isLoopbackHost, isTlsUrl } from './station-paths.js'

type Problem = Omit<ConfigProblem, 'line'>

export function stationProblems(c: Config): Problem[] {
  const out: Problem[] = []
  const s = c.station
  const forms = (['url', 'endpoints', 'paths'] as const).filter((k) => (k === 'url' ? s.url != null : s[k] !== undefined))
  if (forms.length > 1) out.push({ path: `station.${forms[1]}`, message: `station.${forms.join(' and station.')} are both set`, hint: 'use one: url (one broker), endpoints (one path, several brokers) or paths (dual path)' })
  // Every endpoint with where it sits in the file.
  const all: { path: string; url: string }[] = []
  if (s.url) all.push({ path: 'station.url', url: s.url })
  if (s.endpoints) {
    if (!s.endpoints.length) out.push({ path: 'station.endpoints', message: 'is an empty list', hint: 'list the station brokers in order of preference, e.g. [mqtts://node1.station.city:8883, mqtts://node2.station.city:8883], or remove the key' })
    s.endpoints.forEach((url, i) => all.push({ path: `station.endpoints[${i}]`, url }))
  }
  const names = new Map<string, number>()
  s.paths?.forEach((p, i) => {
    const first = names.get(p.name)
    if (first !== undefined) out.push({ path: `station.paths[${i}].name`, message: `"${p.name}" is already the name of station.paths[${first}]`, hint: 'give each path its own name, e.g. wired and cellular' })
    else names.set(p.name, i)
    if (!p.endpoints.length) out.push({ path: `station.paths[${i}].endpoints`, message: 'is an empty list', hint: 'list at least one station broker reached over this path' })
    p.endpoints.forEach((url, j) => all.push({ path: `station.paths[${i}].endpoints[${j}]`, url }))
  })
  const seen = new Map<string, string>()
  for (const e of all) {
    const key = endpointKey(e.url)
    if (key === null || !endpointHost(e.url)) {
      out.push({ path: e.path, message: `"${e.url}" is not a valid URL`, hint: 'write it like mqtts://station.example.city:8883' })
      continue
    }
    const first = seen.get(key)
    if (first !== undefined) out.push({ path: e.path, message: `"${e.url}" is the same broker as ${first}`, hint: s.paths ? 'each path must reach the station over its own broker address (a second path over the same address is no second path)' : 'list each broker once' })
    else seen.set(key, e.path)
    if (!isTlsUrl(e.url) && s.require_tls && !isLoopbackHost(endpointHost(e.url))) {
      out.push({ path: e.path, message: `"${e.url}" is not encrypted, and station.require_tls is on`, hint: 'use mqtts://host:8883 (or wss://) with ca_file; set station.require_tls: false only if this path runs inside a VPN or private network' })
    }
  }
  if (all.length) {
    if ((s.cert_file || s.key_file || s.ca_file) && !all.some((e) => isTlsUrl(e.url))) {
      out.push({ path: all[0].path, message: 'TLS files are set but the URL is not encrypted', hint: 'use mqtts:// (or wss://) so the certificates are used' })
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
