/**
 * The station broker a contract test runs against (issue 16 §2): the same
 * tests run on a single mosquitto (MQTT 5) and on a 3-node NATS cluster
 * (MQTT 3.1.1 only, so every client's fallback is exercised). A test asks the
 * factory for a broker, uses its URL, may take the whole station down and up
 * (an outage with sessions kept), and releases it.
 */
import { Mosquitto } from './mosquitto.js'
import { NatsCluster } from './nats-cluster.js'
import { RabbitCluster } from './rabbitmq-cluster.js'

export interface StationBrokerUnderTest {
  readonly kind: 'mosquitto' | 'nats-cluster' | 'rabbitmq-cluster'
  /** Where a gateway or the station service connects (one node of a cluster). */
  readonly url: string
  /** 5 when the broker speaks MQTT 5, 4 when only 3.1.1 (NATS 2.9, RabbitMQ 3.10). */
  readonly mqttVersion: 5 | 4
  /** Extra gateway `station:` config this broker needs (RabbitMQ 3.10: protocol 3.1.1, docs/city.md). */
  readonly gatewayStation?: Record<string, unknown>
  /** The whole station broker down (every node), sessions and queued QoS 1 messages kept. */
  down(): Promise<void>
  up(): Promise<void>
  release(): Promise<void>
}

export type StationBrokerFactory = (o?: { persistent?: boolean }) => Promise<StationBrokerUnderTest>

/** A fresh mosquitto per call. */
export const mosquittoBroker: StationBrokerFactory = async (o = {}) => {
  const m = await new Mosquitto({ persistent: o.persistent }).start()
  return { kind: 'mosquitto', url: m.url, mqttVersion: 5, down: () => m.stop(), up: async () => { await m.start() }, release: () => m.close() }
}

/** A cluster shared by every call of its factory (started at the first); release() leaves it to `close`. */
function sharedCluster<C extends NatsCluster | RabbitCluster>(start: () => Promise<C>, fields: Pick<StationBrokerUnderTest, 'kind' | 'gatewayStation'>): { factory: StationBrokerFactory; cluster: () => Promise<C>; close: () => Promise<void> } {
  let c: Promise<C> | null = null
  const cluster = () => (c ??= start())
  return {
    cluster,
    factory: async () => {
      const n = await cluster()
      return { ...fields, url: n.mqttUrl(0), mqttVersion: 4, down: () => n.stopAll(), up: () => n.startAll(), release: async () => {} }
    },
    close: async () => { if (c) await (await c).close() },
  }
}

/**
 * One NATS cluster shared by every call (a cluster takes ~3-4 s to start: one per test file, see
 * docs/city.md). JetStream always persists.
 */
export const sharedNatsCluster = () => sharedCluster(() => new NatsCluster().start(), { kind: 'nats-cluster' })

/**
 * One RabbitMQ cluster (3.10, MQTT plugin, quorum queues for sessions) shared by every call: a
 * cluster takes 15-40 s to start on a loaded 2-core machine. Its nodes keep their data when
 * stopped; down() stops all three, up() starts them together (a node waits for its peers).
 * RabbitMQ 3.10 closes an MQTT 5 CONNECT without a CONNACK, so the uplink cannot fall back: configured.
 */
export const sharedRabbitCluster = () => sharedCluster(() => new RabbitCluster().start(), { kind: 'rabbitmq-cluster', gatewayStation: { protocol: '3.1.1' } })
