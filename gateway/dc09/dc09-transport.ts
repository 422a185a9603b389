/**
 * Sockets to the DC-09 receivers (issue 17 §1): TCP (one connection per
 * receiver, opened on demand, framed by Dc09Framer) or UDP (one datagram
 * per frame). The sender (dc09-sender.ts) is stop-and-wait, so at most one
 * frame is out at a time. A transport never throws at its caller: errors
 * arrive as onError, replies as onFrame with the endpoint they came from.
 */
import { createConnection, isIP, type Socket } from 'node:net'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { Dc09Framer } from '../../protocols/dc09/framer.js'
import { MAX_FRAME_BYTES } from '../../protocols/dc09/frame.js'

export interface Dc09Endpoint { host: string; port: number; name: 'primary' | 'backup' }

export interface Dc09TransportEvents {
  onFrame(from: Dc09Endpoint, frame: Buffer): void
  /** Bytes that were not part of any frame, and frames longer than DC-09 allows. */
  onGarbage(bytes: number): void
  onOversize(): void
  onError(at: Dc09Endpoint, err: Error): void
}

export interface Dc09Transport {
  send(to: Dc09Endpoint, frame: Buffer): void
  /** Drop the connection to `to` (a half-open TCP link that stopped answering). */
  reset(to: Dc09Endpoint): void
  /** The exchange with `to` is complete: close the connection gracefully (one connection per message). */
  release(to: Dc09Endpoint): void
  close(): Promise<void>
}

export function parseEndpoint(s: string, name: 'primary' | 'backup'): Dc09Endpoint {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)), name }
}

export class TcpTransport implements Dc09Transport {
  private readonly links = new Map<string, { sock: Socket; framer: Dc09Framer }>()
  constructor(private readonly ev: Dc09TransportEvents, private readonly connectTimeoutMs: number) {}

  send(to: Dc09Endpoint, frame: Buffer): void {
    try {
      this.write(to, frame)
    } catch (e) {
      // e.g. a host name net cannot use: reported like a socket error; the sender's ACK timer repeats.
      this.ev.onError(to, e as Error)
    }
  }

  private write(to: Dc09Endpoint, frame: Buffer): void {
    let link = this.links.get(to.name)
    // A receiver may close after each ACK (ioBroker.sia's sockend): a half-closed link is not reused.
    if (!link || link.sock.destroyed || !link.sock.writable || link.sock.readableEnded) {
      if (link) link.sock.destroy()
      const sock = createConnection({ host: to.host, port: to.port, noDelay: true })
      sock.setTimeout(this.connectTimeoutMs, () => { if (sock.connecting) sock.destroy(new Error('connect timeout')) })
      const framer = new Dc09Framer()
      const l = { sock, framer }
      link = l
      this.links.set(to.name, l)
      sock.on('connect', () => sock.setTimeout(0))
      sock.on('data', (chunk: Buffer) => {
        const g = framer.garbageBytes
        const o = framer.oversize
        const frames = framer.push(chunk)
        if (framer.garbageBytes !== g) this.ev.onGarbage(framer.garbageBytes - g)
        if (framer.oversize !== o) this.ev.onOversize()
        for (const f of frames) this.ev.onFrame(to, f)
      })
      sock.on('error', (e) => this.ev.onError(to, e))
      sock.on('end', () => { if (this.links.get(to.name) === l) this.links.delete(to.name) })
      sock.on('close', () => { if (this.links.get(to.name) === l) this.links.delete(to.name) })
    }
    link.sock.write(frame)
  }

  reset(to: Dc09Endpoint): void {
    const l = this.links.get(to.name)
    if (l) { this.links.delete(to.name); l.sock.destroy() }
  }

  release(to: Dc09Endpoint): void {
    const l = this.links.get(to.name)
    if (l) { this.links.delete(to.name); l.sock.end() }
  }

  async close(): Promise<void> {
    for (const l of this.links.values()) l.sock.destroy()
    this.links.clear()
  }
}

export class UdpTransport implements Dc09Transport {
  private sock: UdpSocket | null = null
  private readonly endpoints: Dc09Endpoint[] = []
  constructor(private readonly ev: Dc09TransportEvents) {}

  private socket(): UdpSocket {
    if (this.sock) return this.sock
    const s = createSocket('udp4')
    s.on('message', (msg, rinfo) => {
      // A receiver named by host name cannot be matched by address; its port still tells primary from backup.
      const from = this.endpoints.find((e) => e.port === rinfo.port && (e.host === rinfo.address || isIP(e.host) === 0))
      if (!from) { this.ev.onGarbage(msg.length); return }
      if (msg.length > MAX_FRAME_BYTES) { this.ev.onOversize(); return }
      // One datagram is one frame: no reassembly, and trailing NULs (some receivers pad) are allowed.
      const framer = new Dc09Framer()
      const frames = framer.push(msg)
      if (framer.garbageBytes) this.ev.onGarbage(framer.garbageBytes)
      if (framer.oversize) this.ev.onOversize()
      for (const f of frames) this.ev.onFrame(from, f)
    })
    s.on('error', (e) => this.ev.onError(this.endpoints[0] ?? { host: '', port: 0, name: 'primary' }, e))
    this.sock = s
    return s
  }

  send(to: Dc09Endpoint, frame: Buffer): void {
    if (!this.endpoints.some((e) => e.name === to.name)) this.endpoints.push(to)
    try {
      this.socket().send(frame, to.port, to.host, (err) => { if (err) this.ev.onError(to, err) })
    } catch (e) {
      this.ev.onError(to, e as Error)
    }
  }

  reset(): void {}
  release(): void {}

  async close(): Promise<void> {
    const s = this.sock
    this.sock = null
    if (s) await new Promise<void>((res) => { try { s.close(() => res()) } catch { res() } })
  }
}
