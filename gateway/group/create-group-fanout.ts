/** Builds the group fan-out and its peer links from the config (null when the post has no group). */
import type { Logger } from 'pino'
import type { IClientOptions, MqttClient } from 'mqtt'
import type { Clock } from '../../devices/time/clock.js'
import type { Config } from '../config/config-types.js'
import type { Secrets } from '../config/secrets.js'
import { Backoff } from '../../devices/time/backoff.js'
import { PostTopics } from '../../protocols/mqtt/topics.js'
import { GroupFanout, type NeighbourAlert, type StationPath } from './group-fanout.js'
import { PeerLink } from './peer-link.js'

export interface GroupFanoutDeps {
  clock: Clock
  log: Logger
  topics: PostTopics
  station: StationPath
  relay: (alert: NeighbourAlert) => void
  connect?: (url: string, opts: IClientOptions) => MqttClient
}

export interface GroupParts {
  fanout: GroupFanout
  peers: PeerLink[]
  topic: string
}

export function createGroupFanout(c: Readonly<Config>, secrets: Secrets, d: GroupFanoutDeps): GroupParts | null {
  if (!c.group) return null
  const g = c.group_fanout
  const peers = g.peers.map((p) => new PeerLink({
    post: p.post,
    url: p.url,
    clientId: `safehouse-${c.site}-${c.post}-group`,
    username: g.username,
    password: secrets.group_password ?? null,
    caFile: g.ca_file,
    clock: d.clock,
    log: d.log,
    // Same spread as the station uplink: a restarted peer is not hammered in lockstep.
    backoff: new Backoff(c.station.backoff_initial_ms, c.station.backoff_max_ms),
    connect: d.connect,
  }))
  const topic = d.topics.groupAlert(c.group)
  const fanout = new GroupFanout({
    site: c.site,
    post: c.post,
    topic,
    maxAgeMs: g.max_age_s * 1000,
    clock: d.clock,
    log: d.log,
    station: d.station,
    peers,
    relay: d.relay,
  })
  return { fanout, peers, topic }
}
