/**
 * Network paths and misbehaving nodes for the uplink tests (issue 16 §1), on
 * free loopback ports:
 *  - TcpPath: a TCP relay in front of a real broker, standing for one network
 *    path (wired, cellular). cut(): the route is gone and the peer says so
 *    (connections reset, new ones refused); blackhole(): the route silently
 *    drops everything both ways and keeps every socket open (a dead cellular
 *    bearer, a cable cut behind a switch): only keepalive can tell.
 *  - silentNode(): accepts TCP and never sends a byte (a half-open cluster node).
 *  - connackThenSilent(): answers CONNECT with CONNACK, then never again (a
 *    node that hangs after the handshake: no SUBACK, PUBACK or PINGRESP).
 *  - pingsButNoPuback(): CONNACK and PINGRESP, never a PUBACK (a node that
 *    lost its cluster and stalls publishes while its connections look alive).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

type Mode = 'open' | 'cut' | 'blackhole'

export class TcpPath {
  port = 0
  private server: Server | null = null
  private mode: Mode = 'open'
  private readonly pairs = new Set<[Socket, Socket]>()
  /** Connections accepted so far (each gateway connect attempt over this path). */
  accepted = 0

  constructor(private readonly targetPort: () => number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    const server = createServer((client) => this.accept(client))
    server.on('error', () => {})
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()))
    this.port = (server.address() as { port: number }).port
    this.server = server
    return this
  }

  private accept(client: Socket): void {
    this.accepted++
    client.on('error', () => {})
    if (this.mode === 'cut') return void client.destroy()
    const upstream = connect(this.targetPort(), '127.0.0.1')
    upstream.on('error', () => {})
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const pair: [Socket, Socket] = [client, upstream]
    this.pairs.add(pair)
    client.on('data', (d) => { if (this.mode === 'open') upstream.write(d) })
    upstream.on('data', (d) => { if (this.mode === 'open') client.write(d) })
    // A black hole tells nobody: a close on one side is not passed on (only keepalive can tell).
    const end = (): void => {
      if (this.mode === 'blackhole') return
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
  }

  /** The route is gone and says so: every connection reset, new ones closed at once. */
  cut(): void {
    this.mode = 'cut'
    for (const [a, b] of this.pairs) { a.destroy(); b.destroy() }
    this.pairs.clear()
  }

  /** The route drops everything silently; sockets stay open. */
  blackhole(): void {
    this.mode = 'blackhole'
  }

  /** The route works again (connections dropped while black-holed are cleaned up). */
  restore(): void {
    if (this.mode === 'blackhole') {
      for (const [a, b] of this.pairs) { a.destroy(); b.destroy() }
      this.pairs.clear()
    }
    this.mode = 'open'
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

/** A node that accepts TCP and never answers; `accepted` counts the connections it swallowed. */
export async function silentNode(): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  return misbehavingNode(() => {})
}

/**
 * A node that sends CONNACK (MQTT 5, success, no properties: 20 03 00 00 00) to the first
 * packet and nothing after it. `connackAt` lists when each CONNACK went out (Date.now()).
 */
export async function connackThenSilent(): Promise<{ url: string; accepted: () => number; connackAt: number[]; close: () => Promise<void> }> {
  const connackAt: number[] = []
  const node = await misbehavingNode((s) => {
    s.once('data', () => {
      connackAt.push(Date.now())
      s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]))
    })
  })
  return { ...node, connackAt }
}

async function misbehavingNode(onSocket: (s: Socket) => void): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((s) => {
    accepted++
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
    onSocket(s)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return {
    url: `mqtt://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A node that answers CONNECT (CONNACK, MQTT 5) and PINGREQ (PINGRESP) and nothing else: publishes
 * are swallowed without PUBACK. Splits the byte stream into MQTT packets by the fixed header
 * (type nibble, variable-length remaining length).
 */
export async function pingsButNoPuback(): Promise<{ url: string; accepted: () => number; pings: () => number; publishes: () => number; close: () => Promise<void> }> {
  let pings = 0
  let publishes = 0
  const node = await misbehavingNode((s) => {
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        if (buf.length < 2) return
        let len = 0
        let mul = 1
        let i = 1
        for (; i < 5 && i < buf.length; i++) {
          len += (buf[i] & 0x7f) * mul
          mul *= 128
          if ((buf[i] & 0x80) === 0) break
        }
        if (i >= buf.length || buf.length < i + 1 + len) return
        const type = buf[0] >> 4
        buf = buf.subarray(i + 1 + len)
        if (type === 1) s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]))
        else if (type === 12) { pings++; s.write(Buffer.from([0xd0, 0x00])) }
        else if (type === 3) publishes++
      }
    })
  })
  return { ...node, pings: () => pings, publishes: () => publishes }
}
