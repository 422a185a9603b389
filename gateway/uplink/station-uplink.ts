/**
 * The uplink to the station (issue 2 §7; issue 16 §1): mqtt.js to the station
 * broker, MQTT 5 with a 3.1.1 fallback, a retained Last Will "offline" and a
 * retained "online" on every connect, jittered exponential backoff, alerts at
 * QoS 1 straight from the outbox, and a bounded, counted queue for everything else.
 *
 * Paths and endpoints (gateway/config/station-paths.ts): each path is one
 * connection (gateway/uplink/path-link.ts) failing over along its ordered
 * endpoints. Alerts, replies and state go over the ACTIVE path: the first
 * path in order of preference that is connected (EN 50136-1 dual path: the
 * primary carries the traffic, the secondary takes over while it is down, and
 * the primary takes it back once it is up again). Only the active path holds
 * the ack/command subscriptions, so an ack or a command is handled once.
 *
 * Life cycle of an alert here: outbox commits it -> sent if connected (QoS 1)
 * -> on every (re)connect or change of active path all unacknowledged alerts
 * are replayed in order -> only the station's ack (topic …/ack, by id, sent
 * after the station stored it) removes it from the outbox; a broker's PUBACK
 * never does. A slow or dead station never blocks anything upstream:
 * publish() only enqueues into mqtt.js, and nothing here is awaited by the core.
 */
import type { IClientOptions, MqttClient, IClientPublishOptions } from 'mqtt'
import type { Logger } from 'pino'
import type { Clock } from '../../devices/time/clock.js'
import type { Config } from '../config/config-types.js'
import type { Outbox, OutboxEntry } from '../outbox/outbox.js'
import type { PostTopics } from '../../protocols/mqtt/topics.js'
import { isMultiPath, stationPaths } from '../config/station-paths.js'
import { PathLink, type UplinkState } from './path-link.js'
import { SendWindow } from './send-window.js'
import { BoundedQueue } from './bounded-queue.js'
import { Backoff } from '../../devices/time/backoff.js'

export type { UplinkState } from './path-link.js'

export interface UplinkCounters {
  connects: number
  connectFailures: number
  alertsSent: number
  alertsReplayed: number
  publishErrors: number
  queueDropped: number
  fallbacks: number
  /** Moves to another endpoint of a path (issue 16 §1). */
  failovers: number
  /** Connections given up because the broker stopped PUBACKing (path-link.ts). */
  pubackTimeouts: number
  /** Changes of the active path (dual path). */
  pathSwitches: number
  /** Messages from a path that was not the active one, not acted on (the active path got them too). */
  inboundIgnored: number
  /** Subscriptions renewed because acks were overdue (a broker that lost them; see resend). */
  resubscribes: number
  /** SUBSCRIBEs the station broker refused (SUBACK 0x80), each retried (subscribeInbound). */
  subscribeRefusals: number
  /** Sessions rebuilt (clean session) because the broker kept refusing our subscriptions. */
  sessionResets: number
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
  /**
   * An alert was just published (called after the publish: metrics, issue 14, its first send ends
   * the send latency; the group copy, which must follow the alert to the station, issue 13 §1).
   */
  onAlertSent?: (e: OutboxEntry, now: number) => void
  /** Topics to subscribe at the station besides ack and commands (e.g. group alerts). */
  extraSubscriptions?: string[]
  /** Every message from the station (acks, commands, group alerts). */
  onMessage: (m: InboundMessage) => void
  onStateChange?: (state: UplinkState) => void
  /** Dual path: path `index` went down (after being up, or failing its first connect) or came back. */
  onPathChange?: (index: number, up: boolean) => void
  /** Injected transport (tests): defaults to mqtt.connect. */
  connect?: (url: string, opts: IClientOptions) => MqttClient
  /** Jitter source of every backoff (reconnect, failover, refused SUBSCRIBE); default Math.random. */
  random?: () => number
}

/** A send-window slot is freed this long after its send even without an ack (send-window.ts). */
const WINDOW_RELEASE_MS = 1000
const OFFLINE = Buffer.from('{"v":1,"state":"offline"}')
/**
 * A refused SUBSCRIBE is retried this often before the session is rebuilt, after a jittered
 * backoff from SUBSCRIBE_RETRY_FIRST_MS (0.5-1 s, 1-2 s, 2-4 s): the refusals come in a crowd
 * (a NATS cluster timing out consumer creation while many posts move, docs/city.md), and retries
 * in lockstep would bring the crowd back together.
 */
const SUBSCRIBE_RETRIES = 3
const SUBSCRIBE_RETRY_FIRST_MS = 1000
/** At most one session rebuild per this long: a subscription an ACL refuses for good must not churn the connection. */
const SESSION_RESET_MIN_MS = 5 * 60_000
/**
 * Our subscriptions at the station (acks, commands, the group topic). No Local (MQTT 5 §3.8.3.1,
 * `nl`): the broker does not send back what this connection published. Every alarm we raise also
 * goes to the group topic we subscribe to (gateway/group/group-fanout.ts), so without it each
 * alert came straight back: one more PUBLISH in, PUBACK out, JSON parse and schema check per
 * alert, all on the alert's way (issue 13 §1: the station path's p99). Nothing we subscribe to is
 * ours to hear: acks and commands come from the station, group alerts from the other posts.
 * mqtt.js sends `nl` only at protocol level 5; on 3.1.1 the echo still comes and is ignored.
 */
const INBOUND_SUBSCRIPTION = { qos: 1, nl: true } as const

export class StationUplink {
  private readonly base = { alertsSent: 0, alertsReplayed: 0, publishErrors: 0, queueDropped: 0, pathSwitches: 0, inboundIgnored: 0, resubscribes: 0, subscribeRefusals: 0, sessionResets: 0 }
  /** Clock ms of the last subscription renewal (NaN: none since the path took over). */
  private resubscribedAt = Number.NaN
  /** Clock ms of the last session rebuild (subscribeInbound). */
  private sessionResetAt = Number.NEGATIVE_INFINITY
  private subscribeRetry: ReturnType<Clock['setTimeout']> | null = null
  /** Delays between refused SUBSCRIBEs of one connection (reset when a new path takes over). */
  private readonly subscribeBackoff: Backoff
  state: UplinkState = 'disabled'
  /** One per configured path, in order of preference; empty without a station. */
  readonly links: PathLink[]
  /** The path carrying alerts and holding the subscriptions, or null while none is connected. */
  private active: PathLink | null = null
  private readonly multi: boolean
  private readonly window: SendWindow
  private readonly queue: BoundedQueue
  /** Dual path: paths currently reported failed (path_failure raised, not yet restored). */
  private readonly failed = new Set<number>()

  constructor(private readonly o: StationUplinkOptions) {
    this.multi = isMultiPath(o.station)
    this.links = stationPaths(o.station).map((path, i) => new PathLink({
      path,
      station: o.station,
      // Two live sessions under one client id would take each other over: each path has its own.
      clientId: i === 0 ? o.clientId : `${o.clientId}-${path.name}`,
      password: o.password,
      will: { topic: this.multi ? o.topics.pathStatus(path.name) : o.topics.status, payload: this.multi ? pathOffline(path.name) : OFFLINE },
      clock: o.clock,
      log: o.log,
      connect: o.connect,
      onConnect: (link, client) => this.onLinkConnect(link, client),
      onClose: (link, was) => this.onLinkClose(link, was),
      onMessage: (link, topic, payload, packet) => this.onLinkMessage(link, topic, payload, packet),
      onStateChange: () => this.updateState(),
      random: o.random,
    }))
    this.subscribeBackoff = new Backoff(SUBSCRIBE_RETRY_FIRST_MS, SUBSCRIBE_RETRY_FIRST_MS * 2 ** (SUBSCRIBE_RETRIES - 1), o.random)
    this.queue = new BoundedQueue(o.station.queue_limit)
    this.window = new SendWindow(o.station.max_inflight, WINDOW_RELEASE_MS, o.clock, (e) => this.publishAlert(e))
    o.outbox.onCommitted((batch) => this.sendAlerts(batch, false))
  }

  get counters(): UplinkCounters {
    const sum = (k: 'connects' | 'connectFailures' | 'fallbacks' | 'failovers' | 'pubackTimeouts'): number => this.links.reduce((n, l) => n + l.counters[k], 0)
    return { ...this.base, connects: sum('connects'), connectFailures: sum('connectFailures'), fallbacks: sum('fallbacks'), failovers: sum('failovers'), pubackTimeouts: sum('pubackTimeouts') }
  }

  get connected(): boolean {
    return this.state === 'connected'
  }

  /** MQTT protocol level of the active path (or of the first path): 5 or 4 (3.1.1). */
  get protocolVersion(): 5 | 4 {
    return (this.active ?? this.links[0])?.protocolVersion ?? 5
  }

  /** Name of the path carrying alerts now, or null. */
  get activePath(): string | null {
    return this.active?.name ?? null
  }

  /** Index of the active path, or -1. */
  get activeIndex(): number {
    return this.active ? this.links.indexOf(this.active) : -1
  }

  start(): void {
    if (!this.links.length) {
      this.state = 'disabled'
      return
    }
    for (const l of this.links) l.start()
  }

  private onLinkConnect(link: PathLink, client: MqttClient): void {
    if (this.multi) {
      link.publish(this.o.topics.pathStatus(link.name), Buffer.from(JSON.stringify({ v: 1, state: 'online', since: this.o.clock.now(), version: this.o.version, path: link.name })), { qos: 1, retain: true })
      this.pathUp(link)
    }
    this.elect()
    // A path that is up but not active holds no subscriptions, also none its persistent session remembers.
    if (link !== this.active) client.unsubscribe(this.inboundTopics())
  }

  private onLinkClose(link: PathLink, wasConnected: boolean): void {
    if (this.multi && (wasConnected || !this.failed.has(this.links.indexOf(link)))) this.pathDown(link)
    this.elect()
  }

  private pathDown(link: PathLink): void {
    const i = this.links.indexOf(link)
    if (this.failed.has(i)) return
    this.failed.add(i)
    this.o.log.warn({ path: link.name }, 'station path failed')
    this.o.onPathChange?.(i, false)
  }

  private pathUp(link: PathLink): void {
    const i = this.links.indexOf(link)
    if (!this.failed.delete(i)) return
    this.o.log.info({ path: link.name }, 'station path restored')
    this.o.onPathChange?.(i, true)
  }

  /** Make the first connected path the active one; on a change, move the subscriptions and replay. */
  private elect(): void {
    const next = this.links.find((l) => l.connected && l.client) ?? null
    if (next === this.active) return this.updateState()
    const prev = this.active
    this.active = next
    // A demoted path that still works gives up the subscriptions (a closed one has no client).
    if (prev?.client && prev.connected) prev.client.unsubscribe(this.inboundTopics())
    this.window.reset()
    if (prev && next) this.base.pathSwitches++
    this.updateState()
    if (!next?.client) return
    if (prev || this.multi) this.o.log.info({ path: next.name, from: prev?.name ?? null }, 'station traffic on this path')
    this.takeOver(next, next.client)
  }

  private inboundTopics(): string[] {
    const t = this.o.topics
    return [t.ack, t.cmdFilter, ...(this.o.extraSubscriptions ?? [])]
  }

  /** The active path: subscribe, announce online, replay every unacknowledged alert, drain the queue. */
  private takeOver(link: PathLink, client: MqttClient): void {
    const t = this.o.topics
    this.resubscribedAt = this.o.clock.now() // just subscribed
    this.subscribeInbound(link, client)
    link.publish(t.status, Buffer.from(JSON.stringify({ v: 1, state: 'online', since: this.o.clock.now(), version: this.o.version })), { qos: 1, retain: true })
    // Replay every unacknowledged alert, oldest first (in order per device), with its id.
    const pending = this.o.outbox.pending()
    if (pending.length) this.o.log.info({ count: pending.length }, 'replaying unacknowledged alerts')
    this.sendAlerts(pending, true)
    for (const m of this.queue.drain()) this.rawPublish(m.topic, m.payload, { qos: m.qos, retain: m.retain })
  }

  private onLinkMessage(link: PathLink, topic: string, payload: Buffer, packet: { properties?: { responseTopic?: string; correlationData?: unknown } }): void {
    if (link !== this.active) {
      this.base.inboundIgnored++
      return
    }
    const props = packet.properties
    this.o.onMessage({ topic, payload, responseTopic: props?.responseTopic, correlationData: props?.correlationData as Buffer | undefined })
  }

  private updateState(): void {
    const s: UplinkState = !this.links.length ? 'disabled' : this.active ? 'connected'
      : this.links.some((l) => l.state === 'connecting') ? 'connecting' : 'disconnected'
    if (this.state === s) return
    this.state = s
    this.o.onStateChange?.(s)
  }

  /** Publish on one path's own connection (its test report), whether or not it is the active one. */
  publishOnPath(index: number, topic: string, payload: Buffer): boolean {
    return this.links[index]?.publish(topic, payload, { qos: 1, retain: false }, (err) => {
      if (err) this.base.publishErrors++
    }) ?? false
  }

  private sendAlerts(batch: readonly OutboxEntry[], replay: boolean): void {
    if (!this.active?.client) return // replayed on the next connect
    if (replay) this.base.alertsReplayed += batch.length
    else this.base.alertsSent += batch.length
    this.window.offer(batch, !replay)
  }

  /** One alert on the wire (the send window decides when), over the active path. */
  private publishAlert(e: OutboxEntry): void {
    const link = this.active
    if (!link?.client || !link.connected) return
    e.attempts++
    e.lastSentAt = this.o.clock.now()
    // The broker's PUBACK only ends the MQTT exchange: the alert stays in the outbox until the station's ack.
    link.publish(e.topic, e.payload, { qos: 1, retain: false }, (err) => {
      if (err) {
        this.base.publishErrors++
        this.o.log.warn({ id: e.id, err: err.message }, 'alert publish to station failed; it stays in the outbox')
      }
    })
    // After the publish (issue 13 §1): bookkeeping and the group copy follow the alert, never precede it.
    this.o.onAlertSent?.(e, e.lastSentAt)
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
    const client = this.active?.client
    if (!client || this.window.holds(entry.id)) return false
    this.base.alertsReplayed++
    // Renew first: SUBSCRIBE goes out before the PUBLISH on the same connection, so the station's
    // answer to the resend finds the subscription in place.
    this.renewSubscriptions(client)
    this.publishAlert(entry)
    return true
  }

  /**
   * An ack overdue on a connection that works may mean the broker lost our
   * subscription while keeping the session: seen on a NATS 2.9 cluster after a
   * node was killed (docs/city.md), where the station's acks, and its re-sent
   * acks, never reached some posts that had not even disconnected. SUBSCRIBE
   * again (MQTT 3.1.1 §3.8.4 / 5.0 §3.8.4: an identical filter replaces the
   * subscription, nothing is duplicated), at most once per ack timeout.
   */
  private renewSubscriptions(client: MqttClient): void {
    const now = this.o.clock.now()
    if (now - this.resubscribedAt < this.o.station.ack_timeout_s * 1000) return
    this.resubscribedAt = now
    this.base.resubscribes++
    if (this.active) this.subscribeInbound(this.active, client)
  }

  /**
   * SUBSCRIBE to acks and commands; a refusal (SUBACK 0x80) is retried, and if the broker keeps
   * refusing, the session is rebuilt. Seen on a NATS 2.9 cluster under load (docs/city.md): it
   * answers 0x80 when creating the subscription's JetStream consumer times out, and then refused
   * every later SUBSCRIBE of that filter in the same session, so the post never got an ack
   * (nats-server#5282, #6989 describe sessions stuck alike; their workaround: a clean session).
   * Rebuilding loses nothing of ours: unacknowledged alerts live in the outbox and are replayed.
   */
  private subscribeInbound(link: PathLink, client: MqttClient, attempt = 0): void {
    if (this.subscribeRetry) this.o.clock.clearTimeout(this.subscribeRetry)
    this.subscribeRetry = null
    const subs = this.inboundTopics()
    client.subscribe(subs, INBOUND_SUBSCRIPTION, (err) => {
      // A connection that closed (or stopped being the active one) before its SUBACK is not a refusal.
      if (!err || !client.connected || this.active !== link || link.client !== client) return
      this.base.subscribeRefusals++
      if (attempt < SUBSCRIBE_RETRIES) {
        if (attempt === 0) this.subscribeBackoff.reset()
        const ms = this.subscribeBackoff.next()
        this.o.log.warn({ err: err.message, subs, retry_ms: ms }, 'station refused our subscriptions; subscribing again')
        this.subscribeRetry = this.o.clock.setTimeout(() => {
          this.subscribeRetry = null
          if (this.active === link && link.client === client && client.connected) this.subscribeInbound(link, client, attempt + 1)
        }, ms)
        return
      }
      const now = this.o.clock.now()
      if (now - this.sessionResetAt < SESSION_RESET_MIN_MS) {
        this.o.log.error({ err: err.message, subs }, 'station refused our subscriptions; acks will not arrive (check the station ACL)')
        return
      }
      this.sessionResetAt = now
      this.base.sessionResets++
      this.o.log.error({ err: err.message, subs }, 'station keeps refusing our subscriptions; reconnecting with a new session')
      link.resetSession()
    })
  }

  /** Non-alert message: sent now, or held (retained: latest value; else bounded FIFO). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): void {
    if (this.active?.client) this.rawPublish(topic, payload, { qos, retain })
    else if (this.links.length) {
      const before = this.queue.dropped
      this.queue.put({ topic, payload, qos, retain })
      this.base.queueDropped += this.queue.dropped - before
    }
  }

  private rawPublish(topic: string, payload: Buffer, opts: IClientPublishOptions): void {
    this.active?.publish(topic, payload, opts, (err) => {
      if (err) this.base.publishErrors++
    })
  }

  /** MQTT 5 reply with correlation data, or a plain publish for 3.1.1. */
  reply(topic: string, payload: Buffer, correlationData?: Buffer): void {
    if (!this.active?.client) return this.publish(topic, payload, 1, false)
    const opts: IClientPublishOptions = { qos: 1, retain: false }
    if (this.protocolVersion === 5 && correlationData) opts.properties = { correlationData }
    this.rawPublish(topic, payload, opts)
  }

  /** Clean stop: publish retained "offline" (the will is not sent on a clean disconnect), then close. */
  async stop(): Promise<void> {
    if (this.subscribeRetry) this.o.clock.clearTimeout(this.subscribeRetry)
    this.subscribeRetry = null
    this.window.reset()
    const active = this.active
    this.active = null
    await Promise.all(this.links.map((l) => {
      const offline = [] as { topic: string; payload: Buffer }[]
      if (this.multi) offline.push({ topic: this.o.topics.pathStatus(l.name), payload: pathOffline(l.name) })
      if (l === active || (!this.multi && l === this.links[0])) offline.push({ topic: this.o.topics.status, payload: OFFLINE })
      return l.stop(offline)
    }))
    this.updateState()
  }
}

function pathOffline(name: string): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, state: 'offline', path: name }))
}
