/**
 * The station service's connection to the station broker: one mqtt.js client,
 * MQTT 5, as an operator client (user/password, TLS with the station's CA for
 * mqtts://). A persistent session (clean: false, 24 h expiry) so alerts sent
 * while the service restarts wait in the broker (docs/protocol.md §Station
 * broker requirements). Ingest, acks and commands share it.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'

export interface StationBrokerOptions {
  url: string
  /** The other nodes of a clustered broker (issue 16): mqtt.js tries url, then these, in turn, on every reconnect. */
  failoverUrls?: string[]
  username: string | null
  password: string | null
  caFile: string | null
  /** auto (default): MQTT 5, 3.1.1 when the broker refuses it; '3.1.1' for a broker that closes an MQTT 5 CONNECT unanswered (RabbitMQ 3.10). */
  protocol?: 'auto' | '5' | '3.1.1'
  clientId: string
  log: Logger
  reconnectMs?: number
}

function serverOf(url: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss' } {
  const u = new URL(url)
  const protocol = u.protocol.slice(0, -1) as 'mqtt' | 'mqtts' | 'ws' | 'wss'
  return { host: u.hostname, port: Number(u.port) || (protocol === 'mqtts' ? 8883 : protocol === 'ws' ? 80 : protocol === 'wss' ? 443 : 1883), protocol }
}

export class StationBroker {
  client: MqttClient | null = null
  private filters: string[] = []

  constructor(private readonly o: StationBrokerOptions) {}

  get connected(): boolean {
    return this.client?.connected === true
  }

  get clientId(): string {
    return this.o.clientId
  }

  /** Filters the broker refused on the last SUBACK (0x80). */
  refusedFilters: string[] = []

  /** 5, or 4 when the broker refused MQTT 5 ([MQTT-3.1.2-2]; aedes speaks 3.1.1 only). */
  protocolVersion: 5 | 4 = 5

  /** Connects (resolves on the first CONNACK or rejects on the first error) and keeps reconnecting after. */
  async start(filters: string[], onMessage: (topic: string, payload: Buffer, props: { correlationData?: Buffer }) => void): Promise<void> {
    this.filters = filters
    if (this.o.protocol === '3.1.1') return this.connect(4, onMessage)
    if (this.o.protocol === '5') return this.connect(5, onMessage)
    try {
      await this.connect(5, onMessage)
    } catch (e) {
      const code = (e as { code?: unknown }).code
      if (code !== 1 && code !== 0x84) throw e
      this.o.log.info('station broker does not support MQTT 5; using 3.1.1')
      await this.connect(4, onMessage)
    }
  }

  private async connect(version: 5 | 4, onMessage: (topic: string, payload: Buffer, props: { correlationData?: Buffer }) => void): Promise<void> {
    this.protocolVersion = version
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: version,
      clean: false,
      ...(version === 5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
      reconnectPeriod: this.o.reconnectMs ?? 1000,
      connectTimeout: 10_000,
      username: this.o.username ?? undefined,
      password: this.o.password ?? undefined,
    }
    if (this.o.caFile) opts.ca = readFileSync(this.o.caFile)
    if (this.o.failoverUrls?.length) opts.servers = [this.o.url, ...this.o.failoverUrls].map(serverOf)
    const client = mqtt.connect(this.o.url, opts)
    this.client = client
    client.on('message', (topic, payload, packet) => onMessage(topic, payload, { correlationData: packet.properties?.correlationData as Buffer | undefined }))
    let subscribed: () => void = () => {}
    const firstSuback = new Promise<void>((resolve) => { subscribed = resolve })
    client.on('connect', (ack) => {
      this.o.log.info({ sessionPresent: ack.sessionPresent }, 'station broker connected')
      // Subscribe on every connect: a broker that lost our session (restart without persistence) still delivers.
      client.subscribe(this.filters, { qos: 1 }, (err, granted) => {
        if (err) this.o.log.error({ err: err.message }, 'station broker subscribe failed')
        // SUBACK 0x80 per filter: e.g. NATS refuses a filter once the session's max_ack_pending total passes 65535.
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic)
        this.refusedFilters = refused
        if (refused.length) this.o.log.error({ refused }, 'station broker refused subscriptions: those messages will not arrive (check the broker ACL and limits)')
        subscribed()
      })
    })
    client.on('offline', () => this.o.log.warn('station broker offline'))
    // A node that refuses the connection (socket error: a string code) is not the broker saying no:
    // with failover_urls mqtt.js tries the next node by itself, so the first start fails only when
    // every node refused once (issue 16: a station must start while one cluster node is down).
    // A CONNACK refusal (numeric code: bad login, no MQTT 5) still fails at once.
    const nodes = 1 + (this.o.failoverUrls?.length ?? 0)
    let unreachable = 0
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error & { code?: unknown }) => {
        if (typeof e.code === 'string' && ++unreachable < nodes) {
          this.o.log.warn({ err: e.message, tried: unreachable, nodes }, 'station broker node unreachable; trying the next node')
          client.once('error', onErr)
          return
        }
        client.off('connect', onOk)
        client.end(true)
        this.client = null
        reject(Object.assign(new Error(`cannot connect to the station broker${nodes > 1 ? ` (none of its ${nodes} nodes)` : ''}: ${e.message}`), { code: e.code }))
      }
      const onOk = () => { client.off('error', onErr); client.on('error', (e) => this.o.log.warn({ err: e.message }, 'station broker error')); resolve() }
      client.once('error', onErr)
      client.once('connect', onOk)
    })
    // Started means receiving: a clustered broker (NATS: one JetStream consumer per filter) may take
    // seconds to SUBACK, and what is published before it is not delivered to us (issue 16).
    await firstSuback
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1; properties?: mqtt.IClientPublishOptions['properties'] }): Promise<void> {
    const c = this.client
    if (!c || !c.connected) return Promise.reject(new Error('the station broker is not connected'))
    return new Promise((resolve, reject) => c.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve())))
  }

  async stop(): Promise<void> {
    const c = this.client
    this.client = null
    if (c) await c.endAsync().catch(() => {})
  }
}
