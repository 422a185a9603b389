/**
 * `safehouse config check`: every station endpoint's host must resolve (issue 16 §1
 * "an unreachable endpoint -> a clear config error"). Only the check does this: at run
 * time an endpoint that does not resolve or answer is failed over and counted
 * (safehouse_uplink_connect_failures_total), never fatal, since DNS or the network
 * may simply not be up yet when the service starts.
 *
 * Resolved with getent (the system resolver: /etc/hosts, DNS, as the gateway's own
 * connect will), synchronously so it runs with the other rules and its problems carry
 * the line of the endpoint. IP literals need no lookup.
 */
import { execFileSync } from 'node:child_process'
import { isIP } from 'node:net'
import type { Config } from '../../gateway/config/config-types.js'
import type { ConfigProblem } from '../../gateway/config/config-error.js'
import { endpointHost } from '../../gateway/config/station-paths.js'

type Problem = Omit<ConfigProblem, 'line'>

const LOOKUP_TIMEOUT_MS = 3000

/** Why `host` cannot be used, or null when it resolves (or cannot be checked here). */
export type Resolve = (host: string) => string | null

export const getentResolve: Resolve = (host) => {
  try {
    execFileSync('getent', ['ahosts', host], { timeout: LOOKUP_TIMEOUT_MS, stdio: 'ignore' })
    return null
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; signal?: string | null }
    if (err.code === 'ENOENT') return null // no getent on this machine: nothing to check with
    if (err.signal) return `did not resolve within ${LOOKUP_TIMEOUT_MS / 1000} s`
    return 'does not resolve'
  }
}

export function endpointRules(resolve: Resolve = getentResolve): (c: Config) => Problem[] {
  return (c) => {
    const s = c.station
    const all: { path: string; url: string }[] = []
    if (s.url) all.push({ path: 'station.url', url: s.url })
    s.endpoints?.forEach((url, i) => all.push({ path: `station.endpoints[${i}]`, url }))
    s.paths?.forEach((p, i) => p.endpoints.forEach((url, j) => all.push({ path: `station.paths[${i}].endpoints[${j}]`, url })))
    const out: Problem[] = []
    const answers = new Map<string, string | null>()
    for (const e of all) {
      const host = endpointHost(e.url)
      if (!host || isIP(host)) continue
      if (!answers.has(host)) answers.set(host, resolve(host))
      const why = answers.get(host)
      if (why) out.push({ path: e.path, message: `host "${host}" ${why}`, hint: 'check the spelling and this Pi\'s DNS (/etc/resolv.conf) or add it to /etc/hosts; at run time the uplink would skip this endpoint and keep retrying it' })
    }
    return out
  }
}
