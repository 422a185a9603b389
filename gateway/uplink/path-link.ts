/**
 * One path to the station (issue 16 §1): one mqtt.js connection at a time over
 * an ordered list of endpoints (a cluster's nodes, or one broker).
 *
 * Failover: a failed attempt or a lost connection moves on to the next
 * endpoint in the list (wrapping). The jittered backoff (devices/time/backoff.ts)
 * grows per ROUND of the list, not per attempt: within a round the next node is
 * tried after the first (jittered) delay, so after a long total outage a node
 * that is back is found within one round, not after max-backoff per dead node;
 * each node still sees one attempt per round from each post. Reset on a connect. A connected endpoint is kept as long as it works: nothing moves the
 * link back to the first endpoint while the current one is healthy (a cluster's
 * nodes are equal; returning would only drop a working connection).
 *
 * Half-open nodes are detected by mqtt.js within the keepalive bound:
 *  - TCP accepted but no CONNACK: connectTimeout (keepalive_s, at least 2 s);
 *  - CONNACK, then silence: mqtt.js 5 sends PINGREQ after keepalive_s without
 *    an answer from the broker (PUBACKs and PINGRESPs count, our own sends do
 *    not) and gives up at 1.5 x keepalive_s.
 *  - PINGRESPs but no PUBACKs (a node that lost its cluster and stalls
 *    publishes): our own watchdog, below, closes the connection when a QoS 1
 *    publish has waited 1.5 x keepalive_s for its PUBACK.
 * All end in 'close', which fails over like any loss.
 */
import { readFileSync } from 'node:fs'
import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt'
import { mqttConnect } from '../mqtt-connect.js'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import type { Config } from '../config/config-types.js'
import type { StationPath } from '../config/station-paths.js'
import { isTlsUrl } from '../config/station-paths.js'
import { Backoff } from '../../devices/time/backoff.js'
import { noDelay, ReconnectTimer, retireClient } from '../reconnect.js'
import { urlForLog } from '../log-url.js'

export type UplinkState = 'disabled' | 'connecting' | 'connected' | 'disconnected'

export interface PathLinkCounters {
  connects: number
  connectFailures: number
  /** Moves to another endpoint after a failed attempt or a lost connection (lists of 2+). */
  failovers: number
  fallbacks: number
  /** Connections closed because a publish waited 1.5 x keepalive for its PUBACK. */
  pubackTimeouts: number
}

export interface PathLinkOptions {
  path: StationPath
  station: Config['station']
  clientId: string
  password: string | null
  /** Last Will of this connection (retained "offline"). */
  will: { topic: string; payload: Buffer }
  clock: Clock
  log: Logger
  connect?: (url: string, opts: IClientOptions) => MqttClient
  onConnect: (link: PathLink, client: MqttClient) => void
  onClose: (link: PathLink, wasConnected: boolean) => void
  onMessage: (link: PathLink, topic: string, payload: Buffer, packet: IPublishPacket) => void
  onStateChange?: (link: PathLink) => void
  /**
   * The backoff's jitter source (default Math.random; tests inject a seeded one). Jitter is what
   * keeps a city's posts from reconnecting in lockstep after a node dies (issue 16 §1).
   */
  random?: () => number
}

/** CONNACK codes meaning "this broker does not speak MQTT 5" (3.1.1 rc 1; MQTT 5 reason 0x84). */
const UNSUPPORTED_PROTOCOL = new Set([1, 0x84])

export class PathLink {
  readonly counters: PathLinkCounters = { connects: 0, connectFailures: 0, failovers: 0, fallbacks: 0, pubackTimeouts: 0 }
  state: UplinkState = 'disabled'
  /** MQTT protocol level in use: 5 or 4 (3.1.1). */
  protocolVersion: 5 | 4
  /** Index in path.endpoints of the endpoint in use (or being tried). */
  endpoint = 0
  /** When the link last went down (clock ms); null while connected or before the first attempt. */
  downSince: number | null = null
  client: MqttClient | null = null
  private readonly reconnect: ReconnectTimer
  private stopped = true
  private fellBack = false
  /** Failed attempts since the last connect (a round is one attempt per endpoint). */
  private failedAttempts = 0
  private readonly firstDelay: Backoff
  /** QoS 1 publishes on this connection waiting for their PUBACK: token -> send time (oldest first). */
  private readonly unacked = new Map<number, number>()
  private token = 0
  private watchdog: TimerHandle | null = null
  /** The next connect starts a new broker session (resetSession). */
  private cleanNext = false

  constructor(private readonly o: PathLinkOptions) {
    this.protocolVersion = o.station.protocol === '3.1.1' ? 4 : 5
    this.reconnect = new ReconnectTimer(o.clock, new Backoff(o.station.backoff_initial_ms, o.station.backoff_max_ms, o.random))
    this.firstDelay = new Backoff(o.station.backoff_initial_ms, o.station.backoff_initial_ms, o.random)
  }

  get name(): string {
    return this.o.path.name
  }

  /** How many endpoints this path has. */
  get endpoints(): number {
    return this.o.path.endpoints.length
  }

  get url(): string {
    return this.o.path.endpoints[this.endpoint]
  }

  get connected(): boolean {
    return this.state === 'connected'
  }

  start(): void {
    this.stopped = false
    this.downSince = this.o.clock.now()
    this.connectNow()
  }

  private connectNow(): void {
    const s = this.o.station
    const url = this.url
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: this.protocolVersion,
      // The station broker keeps our ack subscription while we are away; clean once after resetSession().
      clean: this.cleanNext,
      keepalive: s.keepalive_s,
      reconnectPeriod: 0, // we reconnect ourselves, with jittered backoff and failover
      connectTimeout: Math.max(2000, s.keepalive_s * 1000),
      queueQoSZero: false,
      resubscribe: true,
      username: s.username ?? undefined,
      password: this.o.password ?? undefined,
      will: { topic: this.o.will.topic, payload: this.o.will.payload, qos: 1, retain: true },
      // Maximum Packet Size: a v5 broker drops what we would refuse anyway (issue 12 §11); +1 KiB for topic and header.
      ...(this.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600, maximumPacketSize: s.max_inbound_bytes + 1024 } } : {}),
    }
    if (isTlsUrl(url)) {
      opts.rejectUnauthorized = true
      if (s.ca_file) opts.ca = readFileSync(s.ca_file)
      if (s.cert_file) opts.cert = readFileSync(s.cert_file)
      if (s.key_file) opts.key = readFileSync(s.key_file)
    }
    this.setState('connecting')
    const connect = this.o.connect ?? mqttConnect
    const client = noDelay(connect(url, opts))
    this.client = client
    client.on('connect', () => {
      if (client !== this.client) return
      this.counters.connects++
      this.cleanNext = false
      this.reconnect.backoff.reset()
      this.failedAttempts = 0
      this.downSince = null
      this.setState('connected')
      this.o.log.info({ path: this.name, url: urlForLog(url), endpoint: this.endpoint, protocol: this.protocolVersion }, 'station connected')
      this.o.onConnect(this, client)
    })
    client.on('message', (topic, payload, packet) => {
      if (client === this.client) this.o.onMessage(this, topic, payload, packet)
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      if (s.protocol === 'auto' && this.protocolVersion === 5 && typeof err.code === 'number' && UNSUPPORTED_PROTOCOL.has(err.code)) {
        // [MQTT-3.1.2-2]: the broker refused protocol level 5; speak 3.1.1 (same endpoint next).
        this.counters.fallbacks++
        this.protocolVersion = 4
        this.fellBack = true
        this.o.log.info({ path: this.name, url: urlForLog(url) }, 'station broker does not support MQTT 5; using 3.1.1')
        return
      }
      this.o.log.warn({ path: this.name, url: urlForLog(url), err: err.message, code: err.code }, 'station connection error')
    })
    client.on('close', () => this.onClose(client))
  }

  /**
   * Publish on this connection. QoS 1 publishes are watched: a broker that keeps the connection
   * (PINGRESPs) but never PUBACKs is as dead as a silent one; 1.5 x keepalive, like mqtt.js's own bound.
   */
  publish(topic: string, payload: Buffer, opts: IClientPublishOptions, done?: (err?: Error) => void): boolean {
    const client = this.client
    if (!client || !this.connected) return false
    if (opts.qos !== 1) {
      client.publish(topic, payload, opts, (err) => done?.(err))
      return true
    }
    const k = ++this.token
    this.unacked.set(k, this.o.clock.now())
    client.publish(topic, payload, opts, (err) => {
      this.unacked.delete(k)
      done?.(err)
    })
    if (!this.watchdog) this.armWatchdog()
    return true
  }

  private armWatchdog(): void {
    const boundMs = 1.5 * this.o.station.keepalive_s * 1000
    this.watchdog = this.o.clock.setTimeout(() => {
      this.watchdog = null
      const oldest = this.unacked.values().next()
      if (oldest.done) return
      const client = this.client
      if (client && this.o.clock.now() - oldest.value >= boundMs) {
        this.counters.pubackTimeouts++
        this.o.log.warn({ path: this.name, url: urlForLog(this.url), waited_ms: this.o.clock.now() - oldest.value }, 'station broker takes publishes but does not acknowledge them; failing over')
        client.end(true) // -> 'close' -> next endpoint
        return
      }
      this.armWatchdog()
    }, boundMs / 3)
  }

  /**
   * Drop the broker-side session: close this connection and connect again with a clean session
   * (MQTT 3.1.1 CleanSession / MQTT 5 Clean Start; the ones after are persistent again). For a
   * broker that keeps refusing our subscriptions in this session (station-uplink.ts subscribeInbound).
   */
  resetSession(): void {
    this.cleanNext = true
    this.client?.end(true) // -> 'close' -> reconnect
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return
    retireClient(client)
    this.client = null
    this.unacked.clear()
    if (this.watchdog) this.o.clock.clearTimeout(this.watchdog)
    this.watchdog = null
    if (this.stopped) return
    const wasConnected = this.state === 'connected'
    // A failed attempt (refused, unreachable, no CONNACK in time), whether or not mqtt.js reported an error.
    if (!wasConnected && !this.fellBack) this.counters.connectFailures++
    if (wasConnected) this.downSince = this.o.clock.now()
    this.setState('disconnected')
    const from = this.endpoint
    if (this.fellBack) this.fellBack = false
    else if (this.o.path.endpoints.length > 1) {
      this.endpoint = (this.endpoint + 1) % this.o.path.endpoints.length
      this.counters.failovers++
    }
    this.o.onClose(this, wasConnected)
    // Back off per round of the list: mid-round, the next node after the first delay only.
    const n = this.o.path.endpoints.length
    const midRound = !wasConnected && n > 1 && ++this.failedAttempts % n !== 0
    const delay = this.reconnect.schedule(() => this.connectNow(), midRound ? this.firstDelay.next() : undefined)
    const log = { path: this.name, retry_ms: delay, from: urlForLog(this.o.path.endpoints[from]), next: urlForLog(this.url) }
    if (wasConnected) this.o.log.warn(log, 'station connection lost')
    else this.o.log.debug({ ...log, attempt: this.reconnect.backoff.attempts }, 'station unreachable; trying the next endpoint')
  }

  private setState(s: UplinkState): void {
    if (this.state === s) return
    this.state = s
    this.o.onStateChange?.(this)
  }

  /** Publish the clean-stop "offline" messages (retained), then close. */
  async stop(offline: { topic: string; payload: Buffer }[]): Promise<void> {
    this.stopped = true
    this.reconnect.cancel()
    if (this.watchdog) this.o.clock.clearTimeout(this.watchdog)
    this.watchdog = null
    const client = this.client
    this.client = null
    if (!client) {
      this.setState('disconnected')
      return
    }
    const wasConnected = this.state === 'connected'
    if (wasConnected && offline.length) {
      await new Promise<void>((resolve) => {
        let left = offline.length
        for (const m of offline) client.publish(m.topic, m.payload, { qos: 1, retain: true }, () => { if (--left === 0) resolve() })
        this.o.clock.setTimeout(resolve, 1000)
      })
    }
    await new Promise<void>((resolve) => client.end(!wasConnected, {}, () => resolve()))
    this.setState('disconnected')
  }
}
