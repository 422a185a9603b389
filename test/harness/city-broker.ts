/**
 * The clustered station broker of the city run (issue 16 §2, §4), either a
 * 3-node NATS cluster (nats-cluster.ts) or a 3-node RabbitMQ cluster
 * (rabbitmq-cluster.ts), with one broker user per post allowed only its own
 * topics and a station user allowed everything, and the same handle for
 * city-run.ts: URLs, kill a node, per-node memory / CPU / connections.
 */
import { NatsCluster, diagnoseMqttClient, type NatsUser } from './nats-cluster.js'
import { RabbitCluster, run, type RabbitUser } from './rabbitmq-cluster.js'

export type CityBrokerKind = 'nats' | 'rabbitmq'

export interface CityBroker {
  readonly kind: CityBrokerKind
  /** e.g. 'NATS 2.9.10' */
  readonly label: string
  readonly nodeNames: string[]
  readonly mqttUrls: string[]
  readonly startupMs: number
  kill(i: number): Promise<void>
  /** Resident memory (bytes), CPU % since the last call, MQTT connections of node i; null when down. */
  usage(i: number): Promise<{ mem: number; cpu: number; connections: number } | null>
  /** Diagnosis of one MQTT client (NATS: its subscriptions and consumers); null where not available. */
  diagnose(clientId: string): Promise<unknown>
  /** Lines of the nodes' logs worth showing with a diagnosis. */
  logLines(): string[]
  close(): Promise<void>
}

export const STATION_USER = { user: 'station', password: 'station-pw' }
export const postPassword = (post: string): string => `pw-${post}`

/** NATS users: one per post, allowed only its own topics (MQTT a/b -> subject a.b); the station reads and acks all. */
function natsUsers(site: string, names: string[]): NatsUser[] {
  return [
    { user: STATION_USER.user, password: STATION_USER.password },
    ...names.map((p) => {
      const root = `safehouse.v1.${site}.${p}`
      // $MQTT.sub.> : NATS 2.9 delivers QoS 1 to an MQTT subscription on that internal subject (implicit from 2.12).
      return { user: p, password: postPassword(p), publish: [`${root}.>`, '$MQTT.>', '$JS.ACK.>'], subscribe: [`${root}.ack`, `${root}.cmd.*`, '$MQTT.sub.>'] }
    }),
  ]
}

/**
 * RabbitMQ users: one per post. Its MQTT session is queues `mqtt-subscription-<client id>qos0|1`
 * bound to amq.topic (configure / write / read on them, read / write on amq.topic); topic
 * permissions on amq.topic (MQTT a/b is routing key a.b, + is *) let it publish only under its
 * own root and subscribe only to its `ack` and `cmd/+`.
 */
function rabbitUsers(site: string, names: string[], clientId: (post: string) => string): RabbitUser[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  return [
    { user: STATION_USER.user, password: STATION_USER.password },
    ...names.map((p) => {
      const q = `mqtt-subscription-${esc(clientId(p))}qos[01]`
      const root = esc(`safehouse.v1.${site}.${p}`)
      return { user: p, password: postPassword(p), configure: `^${q}$`, write: `^(amq\\.topic|${q})$`, read: `^(amq\\.topic|${q})$`, topicWrite: `^${root}\\..+$`, topicRead: `^${root}\\.(ack|cmd\\..+)$` }
    }),
  ]
}

export async function startCityBroker(kind: CityBrokerKind, site: string, names: string[], clientId: (post: string) => string): Promise<CityBroker> {
  return kind === 'rabbitmq' ? rabbitBroker(await new RabbitCluster({ users: rabbitUsers(site, names, clientId) }).start()) : natsBroker(await new NatsCluster({ users: natsUsers(site, names) }).start())
}

function natsBroker(c: NatsCluster): CityBroker {
  return {
    kind: 'nats', label: 'NATS 2.9', nodeNames: c.nodes.map((n) => n.name), mqttUrls: c.mqttUrls, startupMs: c.startupMs,
    kill: (i) => c.kill(i),
    usage: (i) => c.usage(i),
    diagnose: (id) => diagnoseMqttClient(c, id),
    logLines: () => c.nodes.map((n) => `${n.name}: ${n.log.split('\n').filter((l) => /mqtt|MQTT|consumer|subscri/.test(l)).slice(-15).join('\n')}`),
    close: () => c.close(),
  }
}

function rabbitBroker(c: RabbitCluster): CityBroker {
  const lastCpu = new Map<number, { at: number; s: number }>()
  return {
    kind: 'rabbitmq', label: 'RabbitMQ 3.10', nodeNames: c.nodes.map((_, i) => `r${i + 1}`), mqttUrls: c.mqttUrls, startupMs: c.startupMs,
    kill: (i) => c.kill(i),
    usage: async (i) => {
      const u = await c.usage(i)
      if (!u) return null
      const now = Date.now()
      const prev = lastCpu.get(i)
      lastCpu.set(i, { at: now, s: u.cpuS })
      // ps reports whole CPU seconds: a % over a 2 s sample is coarse (steps of 50 %); the mean is what counts.
      const cpu = prev && now > prev.at ? (100 * (u.cpuS - prev.s) * 1000) / (now - prev.at) : 0
      const ss = await run('ss', ['-Htn', 'state', 'established', `sport = :${c.nodes[i].mqtt}`])
      return { mem: u.mem, cpu, connections: ss.split('\n').filter(Boolean).length }
    },
    diagnose: async () => null,
    logLines: () => c.nodes.map((n, i) => `r${i + 1}: ${n.log.split('\n').filter((l) => /error|warning|mqtt/i.test(l)).slice(-15).join('\n')}`),
    close: () => c.close(),
  }
}
