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
import { Backoff } from '../../devices/time/backoff.js'

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
  /** Jitter of the refused-SUBSCRIBE backoff (default Math.random; tests inject a seeded one). */
  random?: () => number
}

/**
 * A refused SUBSCRIBE is sent again after a jittered backoff (devices/time/backoff.ts): 0.5-1 s,
 * 1-2 s, 2-4 s … then 15-30 s while it stays refused. Jittered because station instances on one
 * cluster are refused together (the same overloaded node) and would otherwise retry together.
 */
const SUBSCRIBE_RETRY_FIRST_MS = 1000
const SUBSCRIBE_RETRY_MAX_MS = 30_000

function serverOf(url: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss' } {
  const u = new URL(url)
  const protocol = u.protocol.slice(0, -1) as 'mqtt' | 'mqtts' | 'ws' | 'wss'
  return { host: u.hostname, port: Number(u.port) || (protocol === 'mqtts' ? 8883 : protocol === 'ws' ? 80 : protocol === 'wss' ? 443 : 1883), protocol }
}

export class StationBroker {
  client: MqttClient | null = null
  private filters: string[] = []

  constructor(private readonly o: StationBrokerOptions) {
    this.subscribeBackoff = new Backoff(SUBSCRIBE_RETRY_FIRST_MS, SUBSCRIBE_RETRY_MAX_MS, o.random)
  }

  get connected(): boolean {
    return this.client?.connected === true
  }

  get clientId(): string {
    return this.o.clientId
  }

  /** Filters the broker refuses (SUBACK 0x80) and that are being subscribed again. */
  refusedFilters: string[] = []
  /** Filters refused, summed over every SUBACK (a counter). */
  subscribeRefusals = 0
  private retry: NodeJS.Timeout | null = null
  private readonly subscribeBackoff: Backoff

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
      // mqtt.js 5 stops reconnecting for good after a CONNACK refusal unless this is set. A RabbitMQ
      // node that boots answers "Server unavailable" until its cluster has a majority: without it the
      // station stayed deaf after a whole-cluster restart (docs/city.md). The first start still
      // fails at once on a refusal (below: the client is ended before mqtt.js would retry).
      reconnectOnConnackError: true,
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
      this.subscribe(client, this.filters, 0, subscribed)
    })
    client.on('offline', () => { this.clearRetry(); this.o.log.warn('station broker offline') })
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

  /**
   * SUBSCRIBE, and SUBSCRIBE again what the broker refused (SUBACK 0x80) until it is granted: a
   * refused filter is a deaf station for those posts. NATS 2.9 refuses a filter when creating its
   * JetStream consumer times out under load, or once a session's max_ack_pending total passes
   * 65,535 (docs/city.md); the uplink does the same for its acks (station-uplink.ts). mqtt.js
   * reports a refusal as an error with the SUBACK packet, whose granted[i] answers filters[i].
   */
  private subscribe(client: MqttClient, filters: string[], attempt: number, done: () => void): void {
    client.subscribe(filters, { qos: 1 }, (err, _subs, packet) => {
      done()
      if (this.client !== client || !client.connected) return
      const codes = (packet as { granted?: number[] } | undefined)?.granted
      const refused = err ? filters.filter((_f, i) => codes === undefined || ((codes[i] ?? 0x80) & 0x80) !== 0) : []
      // Filters not re-sent this time keep their state; re-sent ones are refused or granted now.
      this.refusedFilters = [...this.refusedFilters.filter((f) => !filters.includes(f)), ...refused]
      if (!refused.length) {
        if (attempt > 0) this.o.log.info({ filters }, 'station broker granted the subscriptions it had refused')
        return
      }
      this.subscribeRefusals += refused.length
      if (attempt === 0) this.subscribeBackoff.reset()
      const ms = this.subscribeBackoff.next()
      this.o.log.error({ err: err?.message, refused, retry_ms: ms }, 'station broker refused subscriptions: their messages do not arrive until granted; subscribing again (check the broker ACL and limits)')
      this.clearRetry()
      this.retry = setTimeout(() => {
        this.retry = null
        if (this.client === client && client.connected) this.subscribe(client, refused, attempt + 1, () => {})
      }, ms)
      this.retry.unref()
    })
  }

  private clearRetry(): void {
    if (this.retry) clearTimeout(this.retry)
    this.retry = null
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1; properties?: mqtt.IClientPublishOptions['properties'] }): Promise<void> {
    const c = this.client
    if (!c || !c.connected) return Promise.reject(new Error('the station broker is not connected'))
    return new Promise((resolve, reject) => c.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve())))
  }

  async stop(): Promise<void> {
    this.clearRetry()
    const c = this.client
    this.client = null
    if (c) await c.endAsync().catch(() => {})
  }
}
