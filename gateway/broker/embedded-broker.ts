/**
 * The embedded MQTT broker (issue 2 §6): aedes for local screens, lamp-box
 * panels, neighbouring posts and technicians' laptops. Deny by default:
 * anonymous clients are refused, passwords are checked against scrypt hashes,
 * every publish and subscribe goes through the ACL, packet size, client count
 * and connect time are bounded. The gateway itself publishes in process.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { Aedes, type Client, type PublishPacket, type Subscription, type AuthenticateError, type AedesPublishPacket } from 'aedes'
import type { Logger } from 'pino'
import type { Config } from '../config/config-types.js'
import { verifyPassword, hashPassword } from '../config/password-hash.js'
import { Acl, roleRules } from './acl.js'
import { PacketSizeGuard } from './packet-size-guard.js'

export interface BrokerCounters {
  connections: number
  refusedAnonymous: number
  refusedBadLogin: number
  refusedTooMany: number
  deniedPublish: number
  deniedSubscribe: number
  rejectedPayload: number
  oversized: number
  clientErrors: number
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
  validateInbound?: (topic: string, payload: Buffer) => string | null
}

/** Hash used for unknown users so a failed login costs the same either way (no user enumeration by timing). */
const DUMMY_HASH = await hashPassword('not-a-user', 1024)

export class EmbeddedBroker {
  readonly counters: BrokerCounters = { connections: 0, refusedAnonymous: 0, refusedBadLogin: 0, refusedTooMany: 0, deniedPublish: 0, deniedSubscribe: 0, rejectedPayload: 0, oversized: 0, clientErrors: 0 }
  private aedes: Aedes | null = null
  private server: Server | null = null
  private readonly acl: Acl
  private readonly sockets = new Set<Socket>()

  constructor(private readonly o: EmbeddedBrokerOptions) {
    this.acl = new Acl(o.broker.users, roleRules(o.site, o.post, o.group))
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    const a = this.server?.address()
    return a && typeof a === 'object' ? a.port : 0
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0
  }

  async start(): Promise<void> {
    const { broker, log } = this.o
    const aedes = await Aedes.createBroker({
      id: `safehouse-${this.o.post}`,
      connectTimeout: broker.connect_timeout_ms,
      queueLimit: broker.queue_limit,
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      preConnect: (client: Client, _packet: unknown, cb: (err: Error | null, ok: boolean) => void) => {
        if (aedes.connectedClients >= broker.max_clients) {
          this.counters.refusedTooMany++
          log.warn({ max: broker.max_clients }, 'broker connection refused: too many clients')
          return cb(null, false)
        }
        cb(null, true)
      },
      authenticate: (client: Client, username: Readonly<string> | undefined, password: Readonly<Buffer> | undefined, cb: (err: AuthenticateError | null, ok: boolean | null) => void) => {
        void this.authenticate(client, username, password).then((code) => {
          if (code === 0) return cb(null, true)
          const err = new Error(code === 5 ? 'not authorized' : 'bad username or password') as AuthenticateError
          err.returnCode = code
          cb(err, null)
        })
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void) => {
        if (!client) return cb(null) // in-process publish by the gateway itself
        const user = (client as Client & { safehouseUser?: string }).safehouseUser
        if (!this.acl.canPublish(user, packet.topic)) {
          this.counters.deniedPublish++
          log.warn({ client: client.id, user, topic: packet.topic }, 'broker publish denied by ACL')
          return cb(new Error('publish not authorized'))
        }
        const problem = this.o.validateInbound?.(packet.topic, packet.payload as Buffer) ?? null
        if (problem) {
          this.counters.rejectedPayload++
          log.warn({ client: client.id, user, topic: packet.topic, problem }, 'broker publish rejected: bad payload')
          return cb(new Error(`bad payload: ${problem}`))
        }
        cb(null)
      },
      authorizeSubscribe: (client: Client | null, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void) => {
        if (!client) return cb(null, sub)
        const user = (client as Client & { safehouseUser?: string }).safehouseUser
        if (!this.acl.canSubscribe(user, client.id, sub.topic)) {
          this.counters.deniedSubscribe++
          log.warn({ client: client.id, user, topic: sub.topic }, 'broker subscribe denied by ACL')
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
    const server = createServer((socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.setNoDelay(true)
      const guard = new PacketSizeGuard(socket, broker.max_packet_bytes, (announced) => {
        this.counters.oversized++
        log.warn({ remote: socket.remoteAddress, announced, max: broker.max_packet_bytes }, 'broker client sent an oversized packet; disconnected')
      })
      guard.on('error', () => {})
      aedes.handle(guard)
    })
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

  /** 0 = accepted, 4 = bad username or password, 5 = not authorized ([MQTT-3.2.2.3] return codes). */
  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<number> {
    if (!username) {
      this.counters.refusedAnonymous++
      this.o.log.warn({ client: client.id }, 'broker refused an anonymous client')
      return 5
    }
    const known = this.acl.roleOf(username) !== undefined
    const stored = known ? this.o.passwords[username] : undefined
    const ok = await verifyPassword(password?.toString('utf8') ?? '', stored ?? DUMMY_HASH)
    if (!ok || !stored) {
      this.counters.refusedBadLogin++
      this.o.log.warn({ client: client.id, user: username, known, hasPassword: !!stored }, 'broker refused a login')
      return 4
    }
    ;(client as Client & { safehouseUser?: string }).safehouseUser = username
    return 0
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
