/**
 * The uplink to the station (issue 2 §7): mqtt.js to the station broker,
 * MQTT 5 with a 3.1.1 fallback, a retained Last Will "offline" and a retained
 * "online" on every connect, jittered exponential backoff, alerts at QoS 1
 * straight from the outbox, and a bounded, counted queue for everything else.
 *
 * Life cycle of an alert here: outbox commits it -> sent if connected (QoS 1)
 * -> on every (re)connect all unacknowledged alerts are replayed in order ->
 * the station's ack (topic …/ack, by id) removes it from the outbox.
 * A slow or dead station never blocks anything upstream: publish() only
 * enqueues into mqtt.js, and nothing here is awaited by the core.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient, type IClientPublishOptions } from 'mqtt'
import type { Logger } from 'pino'
import type { Clock } from '../../devices/time/clock.js'
import type { Config } from '../config/config-types.js'
import type { Outbox, OutboxEntry } from '../outbox/outbox.js'
import type { PostTopics } from '../../protocols/mqtt/topics.js'
import { Backoff } from '../../devices/time/backoff.js'
import { noDelay, ReconnectTimer, retireClient } from '../reconnect.js'
import { SendWindow } from './send-window.js'
import { urlForLog } from '../logging.js'
import { BoundedQueue } from './bounded-queue.js'

export type UplinkState = 'disabled' | 'connecting' | 'connected' | 'disconnected'

export interface UplinkCounters {
  connects: number
  connectFailures: number
  alertsSent: number
  alertsReplayed: number
  publishErrors: number
  queueDropped: number
  fallbacks: number
}

export interface InboundMessage {
  topic: string
  payload: Buffer
  /** MQTT 5 request/response properties, when present. */
  responseTopic?: string
  correlationData?: Buffer
}

export interface StationUplinkOptions {
  station: Config['station']
  topics: PostTopics
  clientId: string
  password: string | null
  version: string
  outbox: Outbox
  clock: Clock
  log: Logger
  /** An alert was put on the wire (metrics, issue 14: its first send ends the send latency). */
  onAlertSent?: (e: OutboxEntry, now: number) => void
  /** Topics to subscribe at the station besides ack and commands (e.g. group alerts). */
  extraSubscriptions?: string[]
  /** Every message from the station (acks, commands, group alerts). */
  onMessage: (m: InboundMessage) => void
  onStateChange?: (state: UplinkState) => void
  /** Injected transport (tests): defaults to mqtt.connect. */
  connect?: (url: string, opts: IClientOptions) => MqttClient
}

/** CONNACK codes meaning "this broker does not speak MQTT 5" (3.1.1 rc 1; MQTT 5 reason 0x84). */
/** A send-window slot is freed this long after its send even without an ack (send-window.ts). */
const WINDOW_RELEASE_MS = 1000

const UNSUPPORTED_PROTOCOL = new Set([1, 0x84])

export class StationUplink {
  readonly counters: UplinkCounters = { connects: 0, connectFailures: 0, alertsSent: 0, alertsReplayed: 0, publishErrors: 0, queueDropped: 0, fallbacks: 0 }
  state: UplinkState = 'disabled'
  /** MQTT protocol level in use: 5 or 4 (3.1.1). */
  protocolVersion: 5 | 4
  private client: MqttClient | null = null
  private readonly reconnect: ReconnectTimer
  private readonly window: SendWindow
  private readonly queue: BoundedQueue
  private stopped = true

  constructor(private readonly o: StationUplinkOptions) {
    this.protocolVersion = o.station.protocol === '3.1.1' ? 4 : 5
    this.reconnect = new ReconnectTimer(o.clock, new Backoff(o.station.backoff_initial_ms, o.station.backoff_max_ms))
    this.queue = new BoundedQueue(o.station.queue_limit)
    this.window = new SendWindow(o.station.max_inflight, WINDOW_RELEASE_MS, o.clock, (e) => this.publishAlert(e))
    o.outbox.onCommitted((batch) => this.sendAlerts(batch, false))
  }

  get connected(): boolean {
    return this.state === 'connected'
  }

  start(): void {
    if (!this.o.station.url) {
      this.setState('disabled')
      return
    }
    this.stopped = false
    this.connectNow()
  }

  private connectNow(): void {
    const s = this.o.station
    const url = s.url as string
    const t = this.o.topics
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: this.protocolVersion,
      clean: false, // the station broker keeps our ack subscription while we are away
      keepalive: s.keepalive_s,
      reconnectPeriod: 0, // we reconnect ourselves, with jittered backoff
      connectTimeout: Math.max(2000, s.keepalive_s * 1000),
      queueQoSZero: false,
      resubscribe: true,
      username: s.username ?? undefined,
      password: this.o.password ?? undefined,
      will: { topic: t.status, payload: Buffer.from('{"v":1,"state":"offline"}'), qos: 1, retain: true },
      // Maximum Packet Size: a v5 broker drops what we would refuse anyway (issue 12 §11); +1 KiB for topic and header.
      ...(this.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600, maximumPacketSize: s.max_inbound_bytes + 1024 } } : {}),
    }
    if (url.startsWith('mqtts://') || url.startsWith('wss://')) {
      opts.rejectUnauthorized = true
      if (s.ca_file) opts.ca = readFileSync(s.ca_file)
      if (s.cert_file) opts.cert = readFileSync(s.cert_file)
      if (s.key_file) opts.key = readFileSync(s.key_file)
    }
    this.setState('connecting')
    const connect = this.o.connect ?? mqtt.connect
    const client = noDelay(connect(url, opts))
    this.client = client
    client.on('connect', () => this.onConnect(client))
    client.on('message', (topic, payload, packet) => {
      const props = packet.properties
      this.o.onMessage({ topic, payload, responseTopic: props?.responseTopic, correlationData: props?.correlationData as Buffer | undefined })
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      if (this.o.station.protocol === 'auto' && this.protocolVersion === 5 && typeof err.code === 'number' && UNSUPPORTED_PROTOCOL.has(err.code)) {
        // [MQTT-3.1.2-2]: the broker refused protocol level 5; speak 3.1.1.
        this.counters.fallbacks++
        this.protocolVersion = 4
        this.o.log.info({ url: urlForLog(url) }, 'station broker does not support MQTT 5; using 3.1.1')
        return
      }
      this.counters.connectFailures++
      this.o.log.warn({ url: urlForLog(url), err: err.message, code: err.code }, 'station connection error')
    })
    client.on('close', () => this.onClose(client))
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return
    this.counters.connects++
    this.reconnect.backoff.reset()
    this.setState('connected')
    const t = this.o.topics
    this.o.log.info({ url: urlForLog(this.o.station.url), protocol: this.protocolVersion }, 'station connected')
    const subs = [t.ack, t.cmdFilter, ...(this.o.extraSubscriptions ?? [])]
    client.subscribe(subs, { qos: 1 }, (err) => {
      if (err) this.o.log.error({ err: err.message, subs }, 'station refused our subscriptions; acks will not arrive (check the station ACL)')
    })
    client.publish(t.status, Buffer.from(JSON.stringify({ v: 1, state: 'online', since: this.o.clock.now(), version: this.o.version })), { qos: 1, retain: true })
    // Replay every unacknowledged alert, oldest first (in order per device).
    const pending = this.o.outbox.pending()
    if (pending.length) this.o.log.info({ count: pending.length }, 'replaying unacknowledged alerts')
    this.window.reset()
    this.sendAlerts(pending, true)
    for (const m of this.queue.drain()) this.rawPublish(m.topic, m.payload, { qos: m.qos, retain: m.retain })
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return
    retireClient(client)
    this.client = null
    this.window.reset()
    if (this.stopped) return
    const wasConnected = this.state === 'connected'
    this.setState('disconnected')
    const delay = this.reconnect.schedule(() => this.connectNow())
    if (wasConnected) this.o.log.warn({ retry_ms: delay }, 'station connection lost')
    else this.o.log.debug({ retry_ms: delay, attempt: this.reconnect.backoff.attempts }, 'station unreachable; retrying')
  }

  private sendAlerts(batch: readonly OutboxEntry[], replay: boolean): void {
    if (!this.client || this.state !== 'connected') return // replayed on the next connect
    if (replay) this.counters.alertsReplayed += batch.length
    else this.counters.alertsSent += batch.length
    this.window.offer(batch, !replay)
  }

  /** One alert on the wire (the send window decides when). */
  private publishAlert(e: OutboxEntry): void {
    const client = this.client
    if (!client || this.state !== 'connected') return
    e.attempts++
    e.lastSentAt = this.o.clock.now()
    this.o.onAlertSent?.(e, e.lastSentAt)
    client.publish(e.topic, e.payload, { qos: 1, retain: false }, (err) => {
      if (err) {
        this.counters.publishErrors++
        this.o.log.warn({ id: e.id, err: err.message }, 'alert publish to station failed; it stays in the outbox')
      }
    })
  }

  /** The station acknowledged an alert: its send-window slot is free. */
  acked(id: string): void {
    this.window.acked(id)
  }

  /**
   * Re-send one alert now (ack timeout, issue 6): past the window, it has waited long enough.
   * Not while the window still holds it: after a long outage its last send is from the previous
   * connection, and the window sends it in its turn (a resend now would only repeat it).
   */
  resend(entry: OutboxEntry): boolean {
    if (!this.client || this.state !== 'connected' || this.window.holds(entry.id)) return false
    this.counters.alertsReplayed++
    this.publishAlert(entry)
    return true
  }

  /** Non-alert message: sent now, or held (retained: latest value; else bounded FIFO). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): void {
    if (this.client && this.state === 'connected') this.rawPublish(topic, payload, { qos, retain })
    else if (this.o.station.url) {
      const before = this.queue.dropped
      this.queue.put({ topic, payload, qos, retain })
      this.counters.queueDropped += this.queue.dropped - before
    }
  }

  private rawPublish(topic: string, payload: Buffer, opts: IClientPublishOptions): void {
    this.client?.publish(topic, payload, opts, (err) => {
      if (err) this.counters.publishErrors++
    })
  }

  /** MQTT 5 reply with correlation data, or a plain publish for 3.1.1. */
  reply(topic: string, payload: Buffer, correlationData?: Buffer): void {
    if (!this.client || this.state !== 'connected') return this.publish(topic, payload, 1, false)
    const opts: IClientPublishOptions = { qos: 1, retain: false }
    if (this.protocolVersion === 5 && correlationData) opts.properties = { correlationData }
    this.rawPublish(topic, payload, opts)
  }

  private setState(s: UplinkState): void {
    if (this.state === s) return
    this.state = s
    this.o.onStateChange?.(s)
  }

  /** Clean stop: publish retained "offline" (the will is not sent on a clean disconnect), then close. */
  async stop(): Promise<void> {
    this.stopped = true
    this.reconnect.cancel()
    this.window.reset()
    const client = this.client
    this.client = null
    if (!client) return
    if (this.state === 'connected') {
      await new Promise<void>((resolve) => {
        client.publish(this.o.topics.status, Buffer.from('{"v":1,"state":"offline"}'), { qos: 1, retain: true }, () => resolve())
        this.o.clock.setTimeout(resolve, 1000)
      })
    }
    await new Promise<void>((resolve) => client.end(this.state !== 'connected', {}, () => resolve()))
    this.setState('disconnected')
  }
}
