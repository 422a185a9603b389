/**
 * The station uplink's endpoints and paths (issue 16 §1), read from the three
 * shapes `station:` accepts:
 *   url: one broker (the original form, still valid);
 *   endpoints: [url, …]: one path over an ordered list (a cluster's nodes), failover in order;
 *   paths: [{ name, endpoints, test_report_s }, …]: dual path (EN 50136-1 DP1–DP4),
 *     e.g. wired and cellular, each supervised with its own test report.
 * Everything else uses the normalized list of paths, never the raw fields.
 */
import type { Config } from './config-types.js'

export interface StationPath {
  /** Path name (topic level): "primary" for url/endpoints, the configured name for paths. */
  name: string
  endpoints: readonly string[]
  /** This path's test-report interval (s); 0 = off. */
  testReportS: number
}

type Station = Config['station']

/** The configured paths, in order of preference; empty when there is no station (local only). */
export function stationPaths(s: Station): StationPath[] {
  if (s.paths?.length) return s.paths.map((p) => ({ name: p.name, endpoints: p.endpoints, testReportS: p.test_report_s ?? s.test_report_s }))
  if (s.endpoints?.length) return [{ name: 'primary', endpoints: s.endpoints, testReportS: s.test_report_s }]
  if (s.url) return [{ name: 'primary', endpoints: [s.url], testReportS: s.test_report_s }]
  return []
}

export function hasStation(s: Station): boolean {
  return stationPaths(s).length > 0
}

/** Dual (or more) path mode: each path its own connection, path_failure over the other. */
export function isMultiPath(s: Station): boolean {
  return (s.paths?.length ?? 0) > 1
}

/** True for URLs whose traffic is encrypted. */
export function isTlsUrl(url: string): boolean {
  return url.startsWith('mqtts://') || url.startsWith('wss://')
}

const DEFAULT_PORT: Record<string, string> = { 'mqtt:': '1883', 'mqtts:': '8883', 'ws:': '80', 'wss:': '443' }

/**
 * What makes two endpoints the same broker: scheme, host (case-insensitive) and port (with the
 * scheme's default filled in), so mqtt://Station and mqtt://station:1883 are one. null if unparsable.
 */
export function endpointKey(url: string): string | null {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.hostname.toLowerCase()}:${u.port || DEFAULT_PORT[u.protocol] || ''}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return null
  }
}

/** The host of an endpoint URL ("" if unparsable), without IPv6 brackets. */
export function endpointHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return ''
  }
}

/**
 * A broker on this machine: plain MQTT never crosses a network (the demo, tests, a local
 * stunnel or VPN end), so `require_tls` does not apply to it.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
