/**
 * The embedded MQTT broker (issue 2 §6): aedes for local screens, lamp-box
 * panels, neighbouring posts and technicians' laptops. Deny by default:
 * anonymous clients are refused, passwords are checked against scrypt hashes,
 * every publish and subscribe goes through the ACL, packet size, client count
 * and connect time are bounded. The gateway itself publishes in process.
 */
import { createServer, type Server, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { Aedes, type Client, type PublishPacket, type Subscription, type AuthenticateError, type AedesPublishPacket, type ConnectPacket } from 'aedes'
import type { Logger } from 'pino'
import type { Config } from '../config/config-types.js'
import { systemClock, type Clock } from '../../devices/time/clock.js'
import { Acl, roleRules } from './acl.js'
import { PacketSizeGuard } from './packet-size-guard.js'
import { SharedDelivery, AEDES_VERSION } from './shared-delivery.js'
import { LoginLimiter, normaliseAddress } from './login-limiter.js'
import { PasswordChecker } from './password-checker.js'
import { ClientIdOwners, clientIdProblem, topicProblem } from './client-rules.js'
import { decideLogin } from './broker-login.js'
import type { BrokerCounters } from './broker-counters.js'

export type { BrokerCounters }

/** Who published: the login behind a local client's publish. */
export interface Publisher {
  user: string
  role: string
}

/** Per TCP connection: where it comes from and what it holds. */
interface Conn {
  address: string
  idProblem: string | null
  clean: boolean
  admitted: boolean
  closed: boolean
  release: (() => void) | null
}

export interface EmbeddedBrokerOptions {
  broker: Config['broker']
  site: string
  post: string
  group: string | null
  /** username -> scrypt hash (from the secrets file). */
  passwords: Readonly<Record<string, string>>
  log: Logger
  /** Checks a payload a local client publishes to a topic the gateway consumes; returns an error text or null. */
  validateInbound?: InboundValidator
  /**
   * Listening before the gateway is built (issue 13 §5, gateway/open-gateway.ts): local clients'
   * publishes are held (their authorisation answered later, in order) until openInbound(), so
   * nothing reaches a topic before the gateway's validator and its own subscriptions are in place.
   * Logins and the ACL do not wait: they are the broker's own and hold from the first connection.
   */
  holdInbound?: boolean
  clock?: Clock
}

export type InboundValidator = (topic: string, payload: Buffer, from: Publisher) => string | null

type SafehouseClient = Client & { safehouseUser?: string }

export class EmbeddedBroker {
  readonly counters: BrokerCounters = {
    connections: 0, refusedAnonymous: 0, refusedBadLogin: 0, refusedTooMany: 0, refusedBackoff: 0, refusedBusy: 0, refusedClientId: 0,
    deniedPublish: 0, deniedSubscribe: 0, rejectedPayload: 0, oversized: 0, clientErrors: 0,
  }
  private aedes: Aedes | null = null
  private server: Server | null = null
  private readonly acl: Acl
  private readonly roles: Map<string, string>
  private readonly sockets = new Set<Socket>()
  private readonly conns = new WeakMap<object, Conn>()
  private admitted = 0
  readonly limiter: LoginLimiter
  readonly checker: PasswordChecker
  private readonly owners = new ClientIdOwners()
  private validateInbound: InboundValidator | null
  /** Pending while local publishes are held (holdInbound), with the function that releases them. */
  private held: { gate: Promise<void>; open: () => void } | null = null
  private starting: Promise<void> | null = null

  constructor(private readonly o: EmbeddedBrokerOptions) {
    this.acl = new Acl(o.broker.users, roleRules(o.site, o.post, o.group))
    this.roles = new Map(o.broker.users.map((u) => [u.username, u.role]))
    const clock = o.clock ?? systemClock
    const l = o.broker.login
    this.limiter = new LoginLimiter(clock, {
      addressFreeFailures: l.address_failures,
      userFreeFailures: l.user_failures,
      backoffBaseMs: 1000,
      backoffMaxMs: l.backoff_max_s * 1000,
      forgetAfterMs: l.forget_after_s * 1000,
      exempt: l.exempt,
    })
    this.checker = new PasswordChecker({ concurrency: l.concurrency, queueLimit: l.queue, deadlineMs: o.broker.connect_timeout_ms, now: () => clock.monotonic() })
    this.validateInbound = o.validateInbound ?? null
    if (o.holdInbound) {
      let open = noop
      const gate = new Promise<void>((resolve) => { open = resolve })
      this.held = { gate, open }
    }
  }

  /**
   * The gateway's payload check, set by the composition root once it exists, and the release of the
   * publishes held since the broker began listening (holdInbound). Call after the gateway's own
   * subscriptions are made, so a publish held at start reaches them.
   */
  openInbound(validate: InboundValidator | null): void {
    this.validateInbound = validate
    const h = this.held
    this.held = null
    h?.open()
  }

  /** Connections counted against max_clients (connected, or logging in). */
  get admittedConnections(): number {
    return this.admitted
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    const a = this.server?.address()
    return a && typeof a === 'object' ? a.port : 0
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0
  }

  /** Builds aedes and listens; a second call (the gateway's start after an early listen) waits for the first. */
  start(): Promise<void> {
    this.starting ??= this.listen()
    return this.starting
  }

  private async listen(): Promise<void> {
    const { broker, log } = this.o
    // mqtt-packet (aedes' writer; mqtt.js' too, the same module in the source tree, its own copy in
    // the installed bundle, turned off in mqtt-connect.ts) builds a cache of 65,536 two-byte
    // Buffers for packet ids at its first write: 6.3 MB of heap and 65,536 objects every full GC
    // walks, resident for good (issue 13 §6, found in a heap snapshot of an idle post). Without it
    // each QoS 1 write allocates its 2-byte id instead.
    mqttPacket.writeToStream.cacheNumbers = false
    // The decoy hash (a scrypt on the threadpool) is not awaited: a check of an unknown user waits
    // for it instead (password-checker.ts), so the broker listens without that delay.
    if (broker.enabled) void this.checker.prepare(broker.users.map((u) => this.o.passwords[u.username]).filter((h): h is string => typeof h === 'string'))
    const checkPayload = (client: Client, user: string | undefined, packet: PublishPacket, cb: (err?: Error | null) => void): void => {
      const from = { user: user ?? '', role: this.roles.get(user ?? '') ?? '' }
      const problem = this.validateInbound?.(packet.topic, packet.payload as Buffer, from) ?? null
      if (problem) {
        this.counters.rejectedPayload++
        log.warn({ client: client.id, user, topic: packet.topic, problem }, 'broker publish rejected: bad payload')
        return cb(new Error(`bad payload: ${problem}`))
      }
      cb(null)
    }
    const aedes = await Aedes.createBroker({
      id: `safehouse-${this.o.post}`,
      connectTimeout: broker.connect_timeout_ms,
      queueLimit: broker.queue_limit,
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      // Only notes what the CONNECT says: a refusal here would leave the client unanswered and
      // open (aedes neither sends a CONNACK nor closes), so every refusal is in authenticate.
      preConnect: (client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void) => {
        const c = this.conns.get(client.conn)
        if (c) {
          c.idProblem = clientIdProblem(typeof packet.clientId === 'string' ? packet.clientId : '', packet.clean !== false)
          c.clean = packet.clean !== false
        }
        cb(null, true)
      },
      authenticate: (client: Client, username: Readonly<string> | undefined, password: Readonly<Buffer> | undefined, cb: (err: AuthenticateError | null, ok: boolean | null) => void) => {
        const c = this.conns.get(client.conn) ?? { address: '', idProblem: null, clean: true, admitted: false, closed: false, release: null }
        void decideLogin({ clientId: client.id, idProblem: c.idProblem, clean: c.clean, address: c.address, username, password, alive: () => !c.closed }, {
          counters: this.counters,
          log,
          limiter: this.limiter,
          checker: this.checker,
          owners: this.owners,
          hashOf: (u) => (this.roles.has(u) ? (this.o.passwords[u] ?? null) : undefined),
          admit: () => this.admit(c),
          maxClients: broker.max_clients,
        }).then((r) => {
          if (r.code === 0) {
            if (c.closed) r.release() // gone while its password was checked
            else c.release = r.release
            ;(client as SafehouseClient).safehouseUser = username
            return cb(null, true)
          }
          const err = new Error(ERRORS[r.code]) as AuthenticateError
          err.returnCode = r.code
          cb(err, null)
        })
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void) => {
        if (!client) return cb(null) // in-process publish by the gateway itself
        const user = (client as SafehouseClient).safehouseUser
        const badTopic = topicProblem(packet.topic)
        // Nothing a local client sends is retained (docs/protocol.md: acks, commands and group
        // alerts are not retained); a stored fake would be replayed to every later subscriber.
        const denied = badTopic ?? (packet.retain ? 'retained publish' : null) ?? (this.acl.canPublish(user, packet.topic) ? null : 'not in the ACL')
        if (denied !== null) {
          this.counters.deniedPublish++
          log.warn({ client: client.id, user, topic: badTopic === null ? packet.topic : undefined, problem: denied }, 'broker publish denied by ACL')
          return cb(new Error('publish not authorized'))
        }
        // Early listen (holdInbound): the ACL above answers at once; the payload check and the
        // forward wait until the gateway is wired (aedes handles a client's packets in turn).
        if (this.held) void this.held.gate.then(() => checkPayload(client, user, packet, cb))
        else checkPayload(client, user, packet, cb)
      },
      authorizeSubscribe: (client: Client | null, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void) => {
        if (!client) return cb(null, sub)
        const user = (client as SafehouseClient).safehouseUser
        const badTopic = topicProblem(sub.topic)
        if (badTopic !== null || !this.acl.canSubscribe(user, client.id, sub.topic)) {
          this.counters.deniedSubscribe++
          log.warn({ client: client.id, user, topic: badTopic === null ? sub.topic : undefined, problem: badTopic ?? 'not in the ACL' }, 'broker subscribe denied by ACL')
          return cb(null, null) // SUBACK 0x80 for this filter ([MQTT-3.9.3]); the connection stays
        }
        cb(null, sub)
      },
    })
    aedes.on('clientError', (client: Client, err: Error) => {
      this.counters.clientErrors++
      log.debug({ client: client?.id, err: err.message }, 'broker client error')
    })
    aedes.on('connectionError', (_client: Client, err: Error) => {
      this.counters.clientErrors++
      log.debug({ err: err.message }, 'broker connection error')
    })
    aedes.on('client', () => { this.counters.connections++ })
    this.aedes = aedes
    if (!broker.enabled) return
    // One serialisation per PUBLISH and one setImmediate per batch of deliveries (issue 13 §4).
    const delivery = new SharedDelivery(aedes)
    if (!delivery.enabled) log.warn({ aedes: delivery.aedesVersion, expected: AEDES_VERSION }, 'broker shared delivery off: aedes release differs')
    const server = createServer((socket) => {
      this.sockets.add(socket)
      socket.setNoDelay(true)
      const conn: Conn = { address: normaliseAddress(socket.remoteAddress), idProblem: null, clean: true, admitted: false, closed: false, release: null }
      const guard = new PacketSizeGuard(socket, broker.max_packet_bytes, (announced) => {
        this.counters.oversized++
        log.warn({ remote: socket.remoteAddress, announced, max: broker.max_packet_bytes }, 'broker client sent an oversized packet; disconnected')
      })
      this.conns.set(guard, conn)
      socket.on('close', () => {
        this.sockets.delete(socket)
        conn.closed = true
        if (conn.admitted) this.admitted--
        conn.admitted = false
        conn.release?.()
      })
      guard.on('error', () => {})
      delivery.install(aedes.handle(guard))
    })
    // A hard bound on open sockets (file handles) whatever the clients do; below it, a connection
    // beyond max_clients gets CONNACK 3 and is closed at once (decideLogin), a silent one is closed
    // after connect_timeout_ms (aedes).
    server.maxConnections = broker.max_clients * 4 + 64
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(new Error(err.code === 'EADDRINUSE'
          ? `embedded broker cannot listen on ${broker.host}:${broker.port}: the port is in use (another broker such as mosquitto?). Stop it or set broker.port`
          : `embedded broker cannot listen on ${broker.host}:${broker.port}: ${err.message}`))
      })
      server.listen(broker.port, broker.host, () => resolve())
    })
    log.info({ host: broker.host, port: this.port, users: broker.users.length }, 'embedded broker listening')
  }

  /** Counts a connection against max_clients (once), unless full. */
  private admit(c: Conn): boolean {
    if (c.admitted) return true
    if (this.admitted >= this.o.broker.max_clients) return false
    c.admitted = true
    this.admitted++
    return true
  }

  /** In-process publish (no socket, no ACL: the gateway is the authority). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): void {
    const a = this.aedes
    if (!a || a.closed) return
    a.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false } as AedesPublishPacket, noop)
  }

  /** The gateway consumes a topic local clients publish to (acks, commands, simulator). */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): void {
    this.aedes?.subscribe(filter, (packet: AedesPublishPacket, cb: () => void) => {
      try {
        handler(packet.topic, packet.payload as Buffer)
      } finally {
        cb()
      }
    }, noop)
  }

  async stop(): Promise<void> {
    this.checker.close()
    this.openInbound(this.validateInbound) // held publishes are answered (the broker is closing)
    const server = this.server
    this.server = null
    if (server) {
      for (const s of this.sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    const a = this.aedes
    this.aedes = null
    if (a) await new Promise<void>((resolve) => a.close(() => resolve()))
  }
}

function noop(): void {}

const ERRORS: Record<number, string> = { 2: 'identifier rejected', 3: 'server unavailable', 4: 'bad username or password', 5: 'not authorized' }
