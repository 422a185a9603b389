/**
 * A city's posts as a load generator that speaks the station contract
 * (issue 16 §4), many posts in one process: 2,100 real gateways (one Node
 * process each, plus devices) do not fit a 2-core machine, but what the
 * station broker and the station service see of a post is only its MQTT
 * session, and that is reproduced here per post, as gateway/uplink does it:
 *
 *  - its own connection and client id `safehouse-<site>-<post>`, its own
 *    credentials (when given), a persistent session (clean: false), keepalive
 *    8 s, the retained Last Will `offline` on `…/status`;
 *  - MQTT 5 first, 3.1.1 after a refusal ([MQTT-3.1.2-2]), like the uplink;
 *  - on every connect: subscribe `…/ack` and `…/cmd/+` (QoS 1), publish the
 *    retained `online` status, replay every unacknowledged alert oldest first
 *    with the same id and bytes (the outbox);
 *  - alerts at QoS 1 with `<site>:<post>:<seq>` ids; an alert leaves the
 *    outbox only on the station's ack, and is re-sent (same id) when no ack
 *    came within the ack timeout;
 *  - retained gateway state and device state (10 devices) every `stateEveryMs`,
 *    a test report every `testReportEveryMs`, both spread over the interval;
 *  - a lost connection is retried with jittered exponential backoff
 *    (500 ms doubling to 30 s, the uplink's defaults), going round the
 *    broker's nodes (what issue 16 §1's multi-endpoint uplink does).
 *
 * Payloads are schema-valid (the station rejects anything else).
 */
import mqtt, { type MqttClient } from 'mqtt'

export interface FleetOptions {
  site: string
  posts: number
  devices?: number
  /** Broker node URLs; post i starts on node i % n and moves to the next on each failed or lost connection. */
  nodes: string[]
  credentials?: (post: string) => { username: string; password: string } | null
  stateEveryMs?: number
  testReportEveryMs?: number
  ackTimeoutMs?: number
  backoffInitialMs?: number
  backoffMaxMs?: number
  keepaliveS?: number
  /** Connections opened at once while starting (a real city's posts come up over minutes). */
  rampConcurrency?: number
  /** Post name for index i. */
  postName?: (i: number) => string
  /**
   * Subscribe `…/ack` again when an alert is re-sent for want of an ack, as the gateway's uplink does
   * (station-uplink.ts renewSubscriptions; docs/city.md "Acks lost"). Default true; false shows the
   * broker's defect alone.
   */
  resubscribeOnResend?: boolean
  /** MQTT level to start with (default 5, falling back to 3.1.1 on a refusal; 4 for RabbitMQ 3.10, which never answers 5). */
  protocolVersion?: 5 | 4
  /** Retry a refused SUBSCRIBE and then rebuild the session, as the uplink does (default true). */
  retryRefusedSubscriptions?: boolean
  /**
   * This fleet's post i is the city's post firstIndex + i (its name, first node and group follow the
   * city's index): a slice of the city run in one process of a split generator (split-fleet.ts).
   */
  firstIndex?: number
}

interface Pending { id: string; topic: string; payload: string; raisedAt: number; lastSent: number; sends: number }

export interface FleetStats {
  raised: number
  acked: number
  pending: number
  sends: number
  /** Sends of an alert after its first (reconnect replay or ack timeout): same id, same bytes. */
  repeats: number
  /** Acks for ids the post no longer holds (a second ack: counted, harmless). */
  unknownAcks: number
  connects: number
  disconnects: number
  connected: number
  fallbacks: number
  /** ms from a post noticing a lost connection to its next CONNACK, one entry per outage. */
  reconnectMs: number[]
  /** SUBSCRIBEs the broker refused (SUBACK 0x80) or that failed. */
  refusedSubs: number
  /** Sessions rebuilt with a clean connect after repeated refusals. */
  sessionResets: number
  /** Why connected posts lost their connection: the client's last error, else 'closed by the broker' (diagnosis). */
  lostBy: Record<string, number>
}

const BOOT_VERSION = 'fleet-1'

export class ContractFleet {
  readonly posts: FleetPost[] = []
  /** Every alert id raised, with the time its first send was handed to mqtt.js. */
  readonly firstSent = new Map<string, number>()
  readonly stats: FleetStats = { raised: 0, acked: 0, pending: 0, sends: 0, repeats: 0, unknownAcks: 0, connects: 0, disconnects: 0, connected: 0, fallbacks: 0, reconnectMs: [], refusedSubs: 0, sessionResets: 0, lostBy: {} }
  /** Protocol level for new connections: 5 until a broker refuses it. */
  protocolVersion: 5 | 4 = 5
  private timers: NodeJS.Timeout[] = []
  private stopped = false
  readonly o: Required<Omit<FleetOptions, 'credentials' | 'protocolVersion'>> & Pick<FleetOptions, 'credentials'>

  constructor(o: FleetOptions) {
    this.o = {
      devices: 10, stateEveryMs: 30_000, testReportEveryMs: 60_000, ackTimeoutMs: 30_000, backoffInitialMs: 500, backoffMaxMs: 30_000,
      keepaliveS: 8, rampConcurrency: 50, resubscribeOnResend: true, retryRefusedSubscriptions: true, firstIndex: 0, postName: (i) => `kiosk-${String(i + 1).padStart(4, '0')}`, ...o,
    }
    if (o.protocolVersion) this.protocolVersion = o.protocolVersion
    for (let i = 0; i < this.o.posts; i++) {
      const city = this.o.firstIndex + i
      this.posts.push(new FleetPost(this, city, this.o.postName(city)))
    }
  }

  /** Connects every post (rampConcurrency at a time); resolves when all are connected. */
  async start(timeoutMs = 300_000): Promise<void> {
    const end = Date.now() + timeoutMs
    let next = 0
    const worker = async () => {
      while (next < this.posts.length) {
        const p = this.posts[next++]
        p.connect()
        await p.connectedOnce(end)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.o.rampConcurrency, this.posts.length) }, worker))
    // Periodic traffic, each post at its own phase in the interval.
    const tick = 1000
    let n = 0
    this.timers.push(setInterval(() => {
      n++
      const now = Date.now()
      for (const p of this.posts) p.periodic(now, n * tick)
    }, tick))
    this.timers.push(setInterval(() => { for (const p of this.posts) p.resendOverdue(Date.now()) }, 1000))
  }

  /** Raise one alert on this fleet's post i (default: a random post), device d. Returns its id. */
  raise(i = Math.floor(Math.random() * this.posts.length), d = Math.floor(Math.random() * this.o.devices), kind = 'panic'): string {
    return this.posts[i].raise(d, kind)
  }

  get ids(): string[] {
    return [...this.firstSent.keys()]
  }

  pendingIds(): string[] {
    return this.posts.flatMap((p) => [...p.outbox.keys()])
  }

  get isStopped(): boolean {
    return this.stopped
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    await Promise.all(this.posts.map((p) => p.close()))
  }
}

class FleetPost {
  client: MqttClient | null = null
  readonly outbox = new Map<string, Pending>()
  private seq = 0
  private node: number
  private attempts = 0
  private lostAt: number | null = null
  private retry: NodeJS.Timeout | null = null
  private everConnected = false
  /** The connection was lost at least once (diagnosis). */
  wasCut = false
  /** Subscriptions the broker refused (SUBACK 0x80) or that failed, with when (diagnosis). */
  readonly refusedSubs: string[] = []
  /** The next connect is clean (the broker kept refusing our subscriptions: rebuild the session). */
  private cleanNext = false
  private sessionResetAt = Number.NEGATIVE_INFINITY
  /** The current client got its CONNACK. */
  private up = false
  /** The current client's last error (diagnosis: why an outage started). */
  private lastError = ''
  private readonly root: string
  private readonly phase: number

  constructor(private readonly f: ContractFleet, readonly index: number, readonly name: string) {
    this.node = index % f.o.nodes.length
    this.root = `safehouse/v1/${f.o.site}/${name}`
    this.phase = Math.floor(Math.random() * f.o.stateEveryMs)
  }

  get connected(): boolean {
    return this.client?.connected === true
  }

  async connectedOnce(end: number): Promise<void> {
    while (!this.everConnected) {
      if (Date.now() > end) throw new Error(`post ${this.name} did not connect`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  connect(): void {
    if (this.f.isStopped) return
    const o = this.f.o
    const cred = o.credentials?.(this.name) ?? null
    const version = this.f.protocolVersion
    const c = mqtt.connect(o.nodes[this.node], {
      clientId: `safehouse-${o.site}-${this.name}`,
      protocolVersion: version,
      clean: this.cleanNext,
      keepalive: o.keepaliveS,
      reconnectPeriod: 0,
      connectTimeout: Math.max(2000, o.keepaliveS * 1000),
      queueQoSZero: false,
      username: cred?.username,
      password: cred?.password,
      will: { topic: `${this.root}/status`, payload: Buffer.from('{"v":1,"state":"offline"}'), qos: 1, retain: true },
      ...(version === 5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
    })
    this.client = c
    this.lastError = ''
    c.on('connect', () => this.onConnect(c))
    c.on('message', (topic, payload) => this.onMessage(topic, payload))
    c.on('error', (e: Error & { code?: unknown }) => {
      this.lastError = e.message
      if (version === 5 && (e.code === 1 || e.code === 0x84)) {
        if (this.f.protocolVersion === 5) this.f.stats.fallbacks++
        this.f.protocolVersion = 4
      }
    })
    c.on('close', () => this.onClose(c))
  }

  private onConnect(c: MqttClient): void {
    if (c !== this.client) return
    const s = this.f.stats
    s.connects++
    s.connected++
    if (this.lostAt !== null) s.reconnectMs.push(Date.now() - this.lostAt)
    this.lostAt = null
    this.attempts = 0
    this.up = true
    this.everConnected = true
    this.cleanNext = false
    this.subscribeInbound(c, 'connect', 0)
    c.publish(`${this.root}/status`, JSON.stringify({ v: 1, state: 'online', since: Date.now(), version: BOOT_VERSION }), { qos: 1, retain: true })
    for (const p of this.outbox.values()) this.send(p) // replay, oldest first (Map keeps insertion order)
  }

  /**
   * As the uplink does (station-uplink.ts subscribeInbound): a refused SUBSCRIBE (SUBACK 0x80) is
   * retried after 1, 2, 4 s, then the session is rebuilt with one clean connect (at most every 5 min).
   */
  private subscribeInbound(c: MqttClient, when: string, attempt: number): void {
    c.subscribe([`${this.root}/ack`, `${this.root}/cmd/+`], { qos: 1 }, (e) => {
      if (!e || c !== this.client || !c.connected) return
      this.refusedSubs.push(`${when}#${attempt}: ${e.message}`)
      this.f.stats.refusedSubs++
      if (!this.f.o.retryRefusedSubscriptions) return
      if (attempt < 3) {
        setTimeout(() => { if (c === this.client && c.connected) this.subscribeInbound(c, when, attempt + 1) }, 1000 * 2 ** attempt)
        return
      }
      if (Date.now() - this.sessionResetAt < 300_000) return
      this.sessionResetAt = Date.now()
      this.f.stats.sessionResets++
      this.cleanNext = true
      c.end(true) // -> close -> reconnect, clean
    })
  }

  private onClose(c: MqttClient): void {
    if (c !== this.client) return
    const s = this.f.stats
    if (this.up) {
      // connected -> lost: the outage starts now (a failed attempt during one does not restart it)
      this.up = false
      this.wasCut = true
      s.disconnects++
      s.connected--
      this.lostAt = Date.now()
      const by = this.f.isStopped ? 'stopped' : this.lastError || 'closed by the broker'
      s.lostBy[by] = (s.lostBy[by] ?? 0) + 1
    }
    c.removeAllListeners()
    c.on('error', () => {})
    c.end(true)
    this.client = null
    if (this.f.isStopped) return
    this.node = (this.node + 1) % this.f.o.nodes.length
    const o = this.f.o
    const base = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** this.attempts++)
    this.retry = setTimeout(() => { this.retry = null; this.connect() }, base / 2 + Math.random() * base / 2)
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!topic.endsWith('/ack')) return
    let id: unknown
    try { id = (JSON.parse(payload.toString()) as { id?: unknown }).id } catch { return }
    if (typeof id !== 'string') return
    if (this.outbox.delete(id)) {
      this.f.stats.acked++
      this.f.stats.pending--
    } else this.f.stats.unknownAcks++
  }

  raise(d: number, kind: string): string {
    const seq = ++this.seq
    const o = this.f.o
    const id = `${o.site}:${this.name}:${seq}`
    const now = Date.now()
    const device = `d-${d}`
    const payload = JSON.stringify({ v: 1, id, site: o.site, post: this.name, device, device_kind: d < 5 ? 'panic-button' : 'ble-whistle', kind, seq, value: 1, hw_time: now, sent_time: now, test: false })
    const p: Pending = { id, topic: `${this.root}/alert/${device}`, payload, raisedAt: now, lastSent: 0, sends: 0 }
    this.outbox.set(id, p)
    this.f.stats.raised++
    this.f.stats.pending++
    this.send(p)
    return id
  }

  private send(p: Pending): void {
    const c = this.client
    if (!c || !c.connected) return // replayed on the next connect
    const s = this.f.stats
    if (p.sends === 0) this.f.firstSent.set(p.id, Date.now())
    else s.repeats++
    p.sends++
    p.lastSent = Date.now()
    s.sends++
    c.publish(p.topic, p.payload, { qos: 1 })
  }

  resendOverdue(now: number): void {
    const overdue = [...this.outbox.values()].filter((p) => p.lastSent && now - p.lastSent >= this.f.o.ackTimeoutMs)
    if (!overdue.length) return
    // Renew the subscription before the resends, so the station's answer to them finds it (as the uplink does).
    if (this.f.o.resubscribeOnResend && this.client?.connected) this.subscribeInbound(this.client, 'resend', 0)
    for (const p of overdue) this.send(p)
  }

  /** State and device states every stateEveryMs, the test report every testReportEveryMs, at this post's phase. */
  periodic(now: number, elapsed: number): void {
    const c = this.client
    if (!c || !c.connected) return
    const o = this.f.o
    const t = elapsed + this.phase
    if (Math.floor(t / o.stateEveryMs) !== Math.floor((t - 1000) / o.stateEveryMs)) {
      c.publish(`${this.root}/state`, JSON.stringify({ v: 1, site: o.site, post: this.name, version: BOOT_VERSION, time: now, uptime_s: Math.floor(elapsed / 1000), station: 'connected', outbox: { depth: this.outbox.size }, counters: {}, last_ack: null, open_alerts: [], group: `unit-${Math.floor(this.index / 10)}` }), { qos: 1, retain: true })
      for (let d = 0; d < o.devices; d++) {
        c.publish(`${this.root}/device/d-${d}/state`, JSON.stringify({ v: 1, device: `d-${d}`, device_kind: d === 0 ? 'lamp-box' : d < 5 ? 'panic-button' : 'ble-whistle', status: 'online', last_seen: now, battery: 80, rssi: -60, faults: [], counters: {} }), { qos: 1, retain: true })
      }
    }
    if (Math.floor(t / o.testReportEveryMs) !== Math.floor((t - 1000) / o.testReportEveryMs)) {
      c.publish(`${this.root}/test-report`, JSON.stringify({ v: 1, post: this.name, time: now, interval_s: Math.round(o.testReportEveryMs / 1000), outbox_depth: this.outbox.size }), { qos: 1 })
    }
  }

  async close(): Promise<void> {
    if (this.retry) clearTimeout(this.retry)
    const c = this.client
    this.client = null
    if (this.up) this.f.stats.connected--
    this.up = false
    if (c) await Promise.race([c.endAsync(true).catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())])
  }
}
