/**
 * What a station-side topic names (docs/protocol.md §Topics), pure. Anything
 * else under the root (group fan-out, acks, commands, replies) is not ingest's.
 */
import { PROTOCOL_ROOT, RESERVED_POST, isTopicLevel } from '../../protocols/mqtt/topics.js'

export type TopicWhat = 'status' | 'path-status' | 'state' | 'alert' | 'device-state' | 'test-report' | 'walk-test-report'

export interface ParsedTopic {
  site: string
  post: string
  what: TopicWhat
  /** The device (alert, device-state) or the path (path-status) the topic names. */
  device: string | null
}

const PREFIX = PROTOCOL_ROOT + '/'

export function parseStationTopic(topic: string): ParsedTopic | null {
  if (!topic.startsWith(PREFIX)) return null
  const p = topic.slice(PREFIX.length).split('/')
  if (p.length < 3) return null
  const [site, post] = p
  if (post === RESERVED_POST || !isTopicLevel(site) || !isTopicLevel(post)) return null
  const rest = p.slice(2)
  const one = rest.length === 1 ? rest[0] : null
  if (one === 'status' || one === 'state' || one === 'test-report') return { site, post, what: one, device: null }
  if (rest.length === 2 && rest[0] === 'walk-test' && rest[1] === 'report') return { site, post, what: 'walk-test-report', device: null }
  if (rest.length === 2 && rest[0] === 'alert' && isTopicLevel(rest[1])) return { site, post, what: 'alert', device: rest[1] }
  if (rest.length === 3 && rest[0] === 'path' && rest[2] === 'status' && isTopicLevel(rest[1])) return { site, post, what: 'path-status', device: rest[1] }
  if (rest.length === 3 && rest[0] === 'device' && rest[2] === 'state' && isTopicLevel(rest[1])) return { site, post, what: 'device-state', device: rest[1] }
  return null
}

/** The subscriptions ingest needs, per site ('+' for all). */
export function stationFilters(sites: readonly string[]): string[] {
  const out: string[] = []
  for (const s of sites.length ? sites : ['+']) {
    const r = `${PROTOCOL_ROOT}/${s}/+`
    out.push(`${r}/status`, `${r}/path/+/status`, `${r}/state`, `${r}/alert/+`, `${r}/device/+/state`, `${r}/test-report`, `${r}/walk-test/report`)
  }
  return out
}
