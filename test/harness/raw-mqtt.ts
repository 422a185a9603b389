/**
 * Hand-built MQTT 3.1.1 CONNECTs over plain sockets, for attacking the
 * embedded broker the way a client on the post's LAN could: any client id
 * bytes (NUL, invalid UTF-8, 10,000 bytes), any source address on loopback
 * (127.0.0.2 … stand for other hosts), hundreds at once.
 */
import { connect } from 'node:net'

export interface RawConnect {
  clientId?: Buffer | string
  username?: string
  password?: string
  clean?: boolean
  keepalive?: number
  localAddress?: string
  /** Keep an accepted connection open (call `end()`); default: close it at once. */
  hold?: boolean
}

function str(b: Buffer): Buffer {
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let d = n % 128
    n = Math.floor(n / 128)
    if (n > 0) d |= 0x80
    out.push(d)
  } while (n > 0)
  return Buffer.from(out)
}

export function connectPacket(o: RawConnect): Buffer {
  const id = typeof o.clientId === 'string' ? Buffer.from(o.clientId) : (o.clientId ?? Buffer.from('raw'))
  let flags = o.clean === false ? 0 : 0x02
  const payload = [str(id)]
  if (o.username !== undefined) { flags |= 0x80; payload.push(str(Buffer.from(o.username))) }
  if (o.password !== undefined) { flags |= 0x40; payload.push(str(Buffer.from(o.password))) }
  const ka = Buffer.alloc(2)
  ka.writeUInt16BE(o.keepalive ?? 30)
  const variable = Buffer.concat([str(Buffer.from('MQTT')), Buffer.from([4, flags]), ka])
  const body = Buffer.concat([variable, ...payload])
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body])
}

export interface RawResult {
  /** CONNACK return code, or null when the connection closed (or timed out) without one. */
  code: number | null
  /** The broker closed the connection (within `closeWithinMs` of the answer). */
  closed: boolean
  ms: number
  /** Close a held connection. */
  end: () => void
}

/** Connect, send CONNECT, wait for CONNACK; then, unless kept, see whether the broker closes. */
export function rawConnect(port: number, o: RawConnect, timeoutMs = 10_000, closeWithinMs = 1000): Promise<RawResult> {
  return new Promise((resolve) => {
    const start = performance.now()
    const s = connect({ port, host: '127.0.0.1', localAddress: o.localAddress })
    let code: number | null = null
    let done = false
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (!(o.hold && code === 0)) s.destroy()
      resolve({ code, closed, ms: performance.now() - start, end: () => s.destroy() })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    s.on('error', () => finish(true))
    s.on('close', () => finish(true))
    s.on('connect', () => s.write(connectPacket(o)))
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (code === null && buf.length >= 4 && buf[0] === 0x20) {
        code = buf[3]
        if (code === 0) return finish(false)
        clearTimeout(timer)
        setTimeout(() => finish(false), closeWithinMs)
      }
    })
  })
}
